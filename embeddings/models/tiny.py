"""A tiny deterministic encoder for tests of logic that is not about the model (builds,
crashes, corruption, backends): hashed word features, L2-normalised.

Fast, nothing to load, and the same vectors in every process, so answers can be compared
across a killed build and its rerun. Its vectors carry no meaning beyond shared words: never
serve questions with it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence

import numpy as np

from embeddings.models.encoder import Progress, Vectors

_WORD = re.compile(r"\w+")


class TinyEncoder:
    """The `Encoder` protocol over hashed words: each word adds one to one of 64 slots."""

    name = "tests/tiny-hashing-encoder"  # recorded in manifests written by the tests
    dimension = 64
    max_tokens = 128

    def __init__(self, slow_seconds: float = 0.0) -> None:
        # A pause per text lets a test kill a build while it is still encoding.
        self.slow_seconds = slow_seconds

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
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
        """Words plus the two special tokens a real tokenizer adds."""
        return len(_WORD.findall(text)) + 2
