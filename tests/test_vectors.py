"""The vector index type follows the size: flat (exact) below a threshold, quantized codes with
exact re-scoring above."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import embeddings.index.directory.vectors
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.directory.generation import open_current
from embeddings.index.directory.vectors import VectorIndex
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store

from .helpers import WANG_YI_QUESTION, WANG_YI_UN, write


def unit_vectors(rows: int, seed: int = 7) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize(("rows", "kind"), [(99, "flat"), (100, "pq-rescore"), (400, "pq-rescore")])
def test_the_index_type_follows_the_size(rows: int, kind: str, tmp_path: Path) -> None:
    vectors = unit_vectors(rows)
    index = VectorIndex.from_vectors(vectors, 16, approximate_from=100)
    assert index.kind == kind
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", rows, 16)
    assert loaded.kind == kind
    np.testing.assert_array_equal(loaded.matrix, vectors)  # the stored rows, in order
    exact = np.argsort(-(vectors @ vectors[3]))[:10]
    scores, found = loaded.search(vectors[3], 10)
    assert found[0] == 3
    assert len(set(found) & set(exact)) >= 9  # re-scored exactly: all but exact
    np.testing.assert_allclose(scores, vectors[found] @ vectors[3], rtol=1e-5)
    assert len(loaded.search(vectors[0], rows + 5)[1]) == rows  # k is capped at the size


def test_a_search_for_few_results_still_rescores_enough_candidates() -> None:
    # Queries that are not rows (as questions are not sentences), on 4,000 rows: the coarse
    # codes alone order the top few poorly, so k × RESCORE candidates for k = 1 would miss.
    vectors = np.random.default_rng(11).standard_normal((4_000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = np.random.default_rng(12).standard_normal((40, 64)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = VectorIndex.from_vectors(vectors, 64, approximate_from=0)
    found = [int(index.search(q, 1)[1][0]) for q in queries]
    best = [int(np.argmax(vectors @ q)) for q in queries]
    assert sum(f == b for f, b in zip(found, best, strict=True)) >= 38


def test_an_engine_over_quantized_indexes_answers_as_before(
    encoder: SentenceTransformerEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embeddings.index.directory.vectors, "APPROXIMATE_FROM", 3)
    data = tmp_path / "data"
    write(data, "wang.txt", f"Wang Yi meets Patrushev\n\n{WANG_YI_UN}\n")
    write(data, "harbour.txt", "Harbour reopens\n\nThe northern pier reopened after repairs.\n")
    write(data, "chess.txt", "Chess final\n\nA teenager won the national chess final.\n")
    build_index([data], open_store(tmp_path / "index"), encoder)
    generation = open_current(tmp_path / "index", encoder.name, encoder.dimension)
    assert (generation.passages.kind, generation.sentences.kind) == ("pq-rescore", "pq-rescore")
    assert (
        WANG_YI_UN
        in Engine(open_store(tmp_path / "index"), encoder).search(WANG_YI_QUESTION).results[0].text
    )
