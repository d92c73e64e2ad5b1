"""Build progress as a terminal progress bar on stderr (the encoding stage is where time goes)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from embeddings import BuildProgress

_DESCRIPTIONS = {
    "encoding": "Encoding passages and sentences",
    "backfilling": "Encoding multilingual vectors",
}


class ProgressBar:
    def __init__(self) -> None:
        self._bar: tqdm[Any] | None = None

    def __call__(self, step: BuildProgress) -> None:
        if step.stage in _DESCRIPTIONS:
            if self._bar is None:
                self._bar = tqdm(
                    total=step.total, desc=_DESCRIPTIONS[step.stage], unit="text",
                    file=sys.stderr, initial=step.done,
                )  # fmt: skip
            self._bar.update(step.done - self._bar.n)
        elif self._bar is not None:
            self._bar.close()
            self._bar = None
