"""The ONNX Runtime encoder: the same vectors as sentence-transformers, cached export, and an
index that remembers which encoder built it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import Engine, IndexIncompatibleError, SentenceTransformerEncoder
from embeddings.errors import ModelUnavailableError
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.models.encoder import load_encoder
from embeddings.models.onnx_encoder import OnnxEncoder

from .helpers import WANG_YI_QUESTION, WANG_YI_UN, write

TEXTS = [
    WANG_YI_QUESTION,
    WANG_YI_UN,
    "Who won the national chess championship?",
    "Growers in the valley picked a record forty thousand tonnes of apples this season.",
    "The council voted to replace the hundred-year-old stone bridge over the river with a "
    "wider crossing for cyclists and pedestrians, after two years of consultation in which "
    "residents, shop owners and the cycling club argued over its width, its cost and whether "
    "the old stones should be kept for a footpath further upstream. " * 3,  # past 256 tokens
    # A one-word sentence as the engine encodes it: after its article's title.
    "Wang Yi meets Nikolai Patrushev\nYeah.",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def int8(cache: Path) -> OnnxEncoder:
    return OnnxEncoder(cache_dir=cache, variant="int8")


@pytest.mark.parametrize(("variant", "floor"), [("fp32", 0.9999), ("int8", 0.99)])
def test_onnx_vectors_agree_with_sentence_transformers(
    encoder: SentenceTransformerEncoder, cache: Path, variant: str, floor: float
) -> None:
    onnx = OnnxEncoder(cache_dir=cache, variant=variant)
    expected = encoder.encode(TEXTS)
    got = onnx.encode(TEXTS)
    assert got.shape == expected.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * expected).sum(axis=1)
    assert cosine.mean() >= floor, cosine
    # int8 loses most on the shortest texts (about 0.96 for a bare "Ok.").
    assert cosine.min() >= floor - 0.02, cosine
    # Order is kept although the encoder sorts by length inside.
    assert np.argmax(got[1:] @ got[0]) == 0
    assert [onnx.count_tokens(t) for t in TEXTS] == [encoder.count_tokens(t) for t in TEXTS]
    assert (onnx.dimension, onnx.max_tokens) == (encoder.dimension, encoder.max_tokens)


@pytest.mark.model  # `int8` exports the real model
def test_export_is_cached_and_reused(int8: OnnxEncoder, cache: Path) -> None:
    stamp = int8.path.stat().st_mtime_ns
    again = OnnxEncoder(cache_dir=cache, variant="int8")
    assert again.path == int8.path
    assert again.path.stat().st_mtime_ns == stamp
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no leftovers


def test_an_index_only_loads_with_the_encoder_that_built_it(
    encoder: SentenceTransformerEncoder, int8: OnnxEncoder, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write(data, "wang.txt", f"Wang Yi meets Patrushev\n\n{WANG_YI_UN}\n")
    build_index([data], open_store(tmp_path / "index"), int8)
    assert (
        WANG_YI_UN
        in Engine(open_store(tmp_path / "index"), int8).search(WANG_YI_QUESTION).results[0].text
    )
    with pytest.raises(IndexIncompatibleError, match="onnx-int8"):
        Engine(open_store(tmp_path / "index"), encoder).search(WANG_YI_QUESTION)
    # Rebuilding with the other encoder re-encodes everything: no int8 vector is reused.
    summary = build_index([data], open_store(tmp_path / "index"), encoder)
    assert (summary.reused, summary.encoded > 0) == (0, True)


def test_settings_that_cannot_work_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="CPU only"):
        load_encoder("onnx-int8", device="cuda", cache_dir=tmp_path)
    with pytest.raises(ModelUnavailableError, match="unknown encoder"):
        load_encoder("tensorrt", cache_dir=tmp_path)
    with pytest.raises(ModelUnavailableError, match="unknown ONNX variant"):
        OnnxEncoder(cache_dir=tmp_path, variant="int4")


def test_cuda_without_a_gpu_is_one_clear_error() -> None:
    import torch

    if torch.cuda.is_available():  # pragma: no cover - only on a GPU machine
        pytest.skip("this machine has a GPU: there is nothing to refuse")
    with pytest.raises(ModelUnavailableError, match="no CUDA GPU"):
        SentenceTransformerEncoder(device="cuda")
