"""Adding the multilingual vectors to an index that lacks them, without holding up updates.

An index built English-only (or by an older configuration) serves English questions at once;
the multilingual vectors of every passage and sentence can take many minutes to encode on a
small machine. Encoding them inside a build would hold the build lock all that time, and an
uploaded or polled article would wait behind it. So the backfill is two steps:

1. `Backfill.encode` encodes, outside any lock, every model input the current sources hold
   (by digest), in batches, reporting progress and honouring a stop between batches.
   Updates meanwhile go on as before, in whatever the index already serves (English).
2. A full build (`compact_index` with `ready`) then writes a generation with both models'
   vectors, taking the multilingual ones from step 1: only what changed since step 1 is
   encoded, so it holds the lock about as long as a compaction.

The vectors of step 1 are held in memory until step 2 has written them (384 floats a text:
15 MB for the shipped archive).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from embeddings.index.indexer import BuildProgress, ProgressCallback
from embeddings.index.stopping import Stop
from embeddings.models.encoder import MultilingualModel, Vectors

# Texts per encoder call: small enough that a stop or a waiting question is not held long.
BATCH = 32


class Backfill:
    """The multilingual vectors encoded so far, by digest, and how far the encoding is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vectors: dict[str, Vectors] = {}
        self._done = 0
        self._total = 0
        self.running = False

    def percent(self) -> int:
        """How much of the last (or current) backfill is encoded, 0 to 100."""
        with self._lock:
            return 100 * self._done // self._total if self._total else 0

    def ready(self) -> Mapping[str, Vectors]:
        with self._lock:
            return dict(self._vectors)

    def encode(
        self,
        inputs: Mapping[str, str],
        model: MultilingualModel,
        stop: Stop,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Encode every input (digest → model input), BATCH at a time."""
        report = stop.watch(progress)
        todo = list(inputs)
        with self._lock:
            self._vectors.clear()
            self._total, self._done = len(todo), 0
        report(BuildProgress("backfilling", self._done, self._total))
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            # The model's own chunks are smaller: the stop is checked after each of them.
            vectors = model.encode_passages(
                [inputs[digest] for digest in batch], lambda _: stop.check()
            )
            with self._lock:
                self._vectors.update(zip(batch, vectors, strict=True))
                self._done += len(batch)
            report(BuildProgress("backfilling", self._done, self._total))

    def clear(self) -> None:
        """Forget the vectors once a generation holds them."""
        with self._lock:
            self._vectors.clear()
