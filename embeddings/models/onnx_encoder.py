"""Text → unit vectors through ONNX Runtime. The only module that imports onnxruntime (and onnx,
but for `e5_onnx`, which writes its graph with it); its cache and int8 steps serve both.

The same model as embeddings/encoder.py (same tokenizer, same 256-token window, mean pooling
over the attention mask, L2 normalisation) exported once with torch.onnx from the weights on
disk, optionally quantized to int8 (dynamic, per channel, MatMul only: per-tensor or quantized
embeddings lose too much, about 0.95 cosine to fp32), and cached as a file. Nothing is
downloaded; the export needs torch and transformers, later runs only onnxruntime and tokenizers,
which also makes a process start in a fraction of the time torch takes to import.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
import warnings
from collections.abc import Callable, Sequence
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

try:
    import onnxruntime
    from tokenizers import Tokenizer
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"the ONNX encoder needs onnxruntime ({_error}); pip install onnxruntime onnx"
    ) from None

VARIANTS = ("fp32", "int8")
# Bump when the exported graph changes, so stale cached files are not picked up.
_EXPORT_VERSION = 1
_BATCH = 32  # beats 64 on a 2-core CPU; the texts are sorted by length first
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEncoder:
    """The bundled (or a local) sentence-transformers model run by ONNX Runtime on the CPU."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache_dir: Path,
        variant: str = "int8",
        threads: int | None = None,
    ) -> None:
        if variant not in VARIANTS:
            raise ModelUnavailableError(
                f"unknown ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}"
            )
        base_name, path = resolve_model(model)
        # The manifest records this name: an index built by another encoder (or variant) is
        # refused, and none of its vectors are reused.
        self.name = f"{base_name}#onnx-{variant}"
        self.max_tokens, self.dimension = check_mean_pooled(path)
        self.path = _cached_export(path, cache_dir, variant)
        self._session = open_session(self.path, threads)
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._batcher = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._batcher.enable_truncation(self.max_tokens)
        pad = _pad_token(path)
        self._batcher.enable_padding(pad_id=self._batcher.token_to_id(pad) or 0, pad_token=pad)
        # A Rust tokenizer object is not safe to share between threads at once, and the bot
        # encodes questions while a reindex encodes passages.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Longest first across the whole input keeps padding waste low.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), _BATCH):
            rows = order[start : start + _BATCH]
            with self._lock:
                encoded = self._batcher.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self._session.run(None, feed)[0]
            if progress:
                progress(len(rows))
        return out

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._tokenizer.encode(text).ids)


def _pad_token(path: Path) -> str:
    try:
        config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
        return str(config.get("pad_token") or "[PAD]")
    except (OSError, ValueError):
        return "[PAD]"


def open_session(path: Path, threads: int | None = None) -> onnxruntime.InferenceSession:
    """A CPU session for the model file at `path`, all graph optimisations on."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 8)
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ModelUnavailableError(f"cannot load {path}: {error}") from None


def file_key(head: str, root: Path, files: Sequence[Path]) -> str:
    """A short hash of `head` and the name (under `root`), size and time of each of `files`: a
    cached model file named with it is made again when its sources change."""
    key = hashlib.blake2b(digest_size=8)
    key.update(head.encode())
    for item in files:
        stat = item.stat()
        key.update(f"{item.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return key.hexdigest()


def cached_model(target: Path, variant: str, export: Callable[[Path], None]) -> Path:
    """`target`, made now if it is not cached yet: `export` writes the fp32 graph to the path it
    is given, which is then quantized when `variant` is int8."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Temporary names, then one rename: a crash or a concurrent export never leaves a
    # half-written file under the name that is looked up.
    scratch = target.parent / f".export-{uuid.uuid4().hex}"
    try:
        export(scratch.with_suffix(".fp32.onnx"))
        if variant == "int8":
            _quantize(scratch.with_suffix(".fp32.onnx"), scratch.with_suffix(".int8.onnx"))
        os.replace(scratch.with_suffix(f".{variant}.onnx"), target)
    finally:
        for suffix in (".fp32.onnx", ".int8.onnx"):
            scratch.with_suffix(suffix).unlink(missing_ok=True)
    return target


def _cached_export(path: Path, cache_dir: Path, variant: str) -> Path:
    """The exported (and quantized) model file for `path`, made now if it is not cached yet."""
    sources = [
        item
        for item in sorted(path.rglob("*"))
        if item.is_file() and item.suffix in {".json", ".safetensors", ".bin", ".txt"}
    ]
    key = file_key(f"{_EXPORT_VERSION}|{variant}|{path}", path, sources)
    target = cache_dir / f"{path.name}-{key}-{variant}.onnx"
    return cached_model(target, variant, lambda scratch: _export(path, scratch))


def _export(path: Path, target: Path) -> None:
    """Trace the transformer plus pooling and normalisation into one ONNX graph."""
    try:
        import torch
        import transformers
        from transformers import AutoModel
    except ImportError as error:
        raise MissingDependencyError(
            f"exporting the model to ONNX needs torch and transformers ({error})"
        ) from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformer = AutoModel.from_pretrained(str(path)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            hidden = self.transformer(
                input_ids=ids, attention_mask=mask, token_type_ids=types
            ).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    example = torch.ones((2, 16), dtype=torch.int64)
    dynamic = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    # The tracer warns about Python branches on shapes in the attention code; the graph is
    # checked against sentence-transformers by tests/test_onnx_encoder.py instead.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(),
            (example, example, torch.zeros_like(example)),
            str(target),
            input_names=list(_INPUTS),
            output_names=["embedding"],
            dynamic_axes={**dynamic, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript, which is not a dependency
        )


def _quantize(source: Path, target: Path) -> None:
    try:
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:
        raise MissingDependencyError(f"int8 quantization needs onnx ({error})") from None
    # It logs advice to pre-process the graph at WARNING on the root logger; not needed here.
    root = logging.getLogger()
    was_disabled = root.disabled
    root.disabled = True
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            # The fused self-attention of `e5_onnx` too (QAttention); shape inference does not
            # follow contrib ops, hence the default type of what they produce.
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        root.disabled = was_disabled
