"""Stopping a build between two batches, so a shutdown (SIGTERM) takes seconds, not the rest of
a build of minutes, and never leaves half a generation.

Every encoder reports progress after each batch, and the indexer reports each stage (parsing,
encoding, writing): a build whose progress callback raises `BuildStoppedError` stops there,
before anything is published, and the previous generation keeps serving. The switch itself is
never interrupted: once the generation is written, making it current takes milliseconds.
"""

from __future__ import annotations

import threading

from embeddings.errors import BuildStoppedError
from embeddings.index.indexer import BuildProgress, ProgressCallback

# Stages at which a stop is honoured: the switch ("switching", "done") runs to its end.
_STOPPABLE = frozenset({"parsing", "encoding", "writing", "backfilling"})


class Stop:
    """Set once, by a signal handler or a shutdown, from any thread; read by every build."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason = "a shutdown"

    def set(self, reason: str = "a shutdown") -> None:
        """Stop every build at its next batch; `reason` ("SIGTERM") goes into the message."""
        self._reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise BuildStoppedError(
                f"indexing stopped by {self._reason} before it finished; "
                "the previous index is still serving"
            )

    def watch(self, progress: ProgressCallback | None) -> ProgressCallback:
        """`progress`, raising BuildStoppedError at the next batch once the stop is set."""

        def report(step: BuildProgress) -> None:
            if step.stage in _STOPPABLE:
                self.check()
            if progress is not None:
                progress(step)

        return report
