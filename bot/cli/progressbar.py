"""Build progress as a terminal progress bar on stderr (the encoding stage is where time goes)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from embeddings import BuildProgress


class ProgressBar:
    def __init__(self) -> None:
        self._bar: tqdm[Any] | None = None

    def __call__(self, step: BuildProgress) -> None:
        if step.stage == "encoding":
            if self._bar is None:
                self._bar = tqdm(
                    total=step.total, desc="Encoding passages and sentences", unit="text",
                    file=sys.stderr,
                )  # fmt: skip
            self._bar.update(step.done - self._bar.n)
        elif self._bar is not None:
            self._bar.close()
            self._bar = None
