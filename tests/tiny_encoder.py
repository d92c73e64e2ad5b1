"""A tiny deterministic encoder for tests where the model is not the point (crash and
corruption tests): hashed word features, L2-normalised. Fast, no model to load, and the same
vectors in every process, so answers can be compared across a killed build and its rerun."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+")


class TinyEncoder:
    name = "tests/tiny-hashing-encoder"
    dimension = 64
    max_tokens = 128

    def __init__(self, slow_seconds: float = 0.0) -> None:
        # A pause per text lets a test kill a build while it is still encoding.
        self.slow_seconds = slow_seconds

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        import time

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                slot = hashlib.blake2b(word.encode(), digest_size=2).digest()
                out[row, int.from_bytes(slot, "big") % self.dimension] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
            if self.slow_seconds:
                time.sleep(self.slow_seconds)
            if progress:
                progress(1)
        return out

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text)) + 2
