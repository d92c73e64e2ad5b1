"""Text → unit vectors with sentence-transformers on torch. The only module that imports
sentence-transformers (and torch, for its CUDA check); both load when the encoder is made."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.errors import MissingDependencyError, ModelUnavailableError
from embeddings.models.encoder import (
    DEFAULT_MODEL,
    Progress,
    Vectors,
    check_mean_pooled,
    resolve_model,
)

# Texts per call into the model: progress moves, memory stays flat, and a question asked
# during a build waits for at most one chunk (see the lock below).
_CHUNK = 64


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder, on the CPU unless told."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None) -> None:
        self.name, path = resolve_model(model)
        # Belt and braces: even a misconfigured model must never reach for the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # Idle OpenMP threads sleep instead of spinning. On a small machine shared with other
        # work (a reindex, a second process) spinning threads starve each other: a question
        # took 770 ms instead of 22 ms under load (measured). Read when torch loads, below.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise MissingDependencyError(
                f"sentence-transformers is not installed ({error}); "
                "pip install sentence-transformers"
            ) from None
        # Our own progress bars report the work; the library's "Loading weights" bar is noise.
        transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        device = device or "cpu"
        if device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise ModelUnavailableError(
                    f"--device {device}: torch sees no CUDA GPU here (torch {torch.__version__}); "
                    "leave the device out to encode on the CPU"
                )
        try:
            self._model: Any = SentenceTransformer(str(path), device=device)
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelUnavailableError(f"cannot load model from {path}: {error}") from None
        # sentence-transformers 5.2 renamed the method; accept both spellings.
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension() or 0) or int(self.encode(["x"]).shape[1])
        # Models without a declared window are treated as BERT-sized.
        self.max_tokens = int(self._model.max_seq_length or 512)
        self._tokenizer = self._model.tokenizer
        # A fast tokenizer is not safe to call from two threads at once ("Already borrowed"),
        # and the bot encodes questions while a reindex encodes passages.
        self._lock = threading.Lock()
        self._fast: Any = None
        if device.startswith("cuda") and _mean_pooled(path):
            from embeddings.models.cuda_batches import FastBatchEncoder

            # Half precision and host work overlapped with the GPU; see cuda_batches.py.
            self._fast = FastBatchEncoder(
                self._model[0].auto_model.half(), path / "tokenizer.json", self.max_tokens, device
            )

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._fast is not None:
            with self._lock:
                vectors: Vectors = self._fast.encode(texts, progress)
            return vectors
        # Longest first across the whole input (not just per call) keeps padding waste low.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), _CHUNK):
            rows = order[start : start + _CHUNK]
            with self._lock:
                vectors = self._model.encode(
                    [texts[i] for i in rows],
                    batch_size=32,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            out[rows] = vectors
            if progress:
                progress(len(rows))
        return out

    def count_tokens(self, text: str) -> int:
        # verbose=False: measuring a text longer than the window is the point, not a mistake.
        with self._lock:
            encoded = self._tokenizer(
                text, add_special_tokens=True, truncation=False, verbose=False
            )
        return len(encoded["input_ids"])


def _mean_pooled(path: Path) -> bool:
    try:
        check_mean_pooled(path)
    except ModelUnavailableError:
        return False
    return True
