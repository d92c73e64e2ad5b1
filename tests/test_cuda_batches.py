"""The GPU fast path (embeddings/cuda_batches.py), run on the CPU: same vectors, input order."""

from __future__ import annotations

import numpy as np

from embeddings.models.cuda_batches import FastBatchEncoder
from embeddings.models.encoder import resolve_model
from embeddings.models.torch_encoder import SentenceTransformerEncoder


def test_fast_path_returns_plain_vectors_in_input_order(
    encoder: SentenceTransformerEncoder,
) -> None:
    # Lengths deliberately out of order and batches smaller than the input, so the length sort
    # and the final reordering both matter.
    texts = [
        "Short.",
        "Wang Yi met Nikolai Patrushev in Moscow to discuss security cooperation at length.",
        "A middling sentence about the United Nations.",
        "x",
        "The Security Council met on Tuesday; China and Russia abstained from the vote.",
    ]
    _, path = resolve_model(encoder.name)
    fast = FastBatchEncoder(
        encoder._model[0].auto_model, path / "tokenizer.json", encoder.max_tokens, "cpu",
        batch_size=2, workers=2,
    )  # fmt: skip
    vectors = fast.encode(texts)
    expected = encoder.encode(texts)
    np.testing.assert_allclose((vectors * expected).sum(axis=1), 1.0, atol=1e-4)
