"""BM25 and idf-weighted coverage."""

from __future__ import annotations

import numpy as np

from embeddings.index.lexical import LexicalIndex, tokenize

PASSAGES = [
    "Wang Yi met Patrushev in Moscow to discuss security.",
    "The harvest of apples was a record this year.",
    "Security talks in Moscow ended without a statement.",
]
SENTENCES = ["Wang Yi met Patrushev in Moscow.", "Apples were a record.", "Talks ended."]


def test_tokenize_lowercases_stems_and_drops_stopwords_and_reporting_verbs() -> None:
    assert tokenize("What did Wang Yi say about the UN's Security Councils?") == [
        "wang", "yi", "un", "secur", "council",
    ]  # fmt: skip


def test_bm25_prefers_the_passage_with_the_rare_terms() -> None:
    index = LexicalIndex.build(PASSAGES, SENTENCES)
    scores = index.scores(tokenize("Patrushev security"))
    assert int(np.argmax(scores)) == 0
    assert not index.scores(tokenize("zebra")).any()


def test_coverage_weighs_rare_terms_and_counts_unknown_ones_as_missing() -> None:
    index = LexicalIndex.build(PASSAGES, SENTENCES)
    query = index.query_terms(tokenize("Patrushev Moscow"))
    assert index.coverage(query, PASSAGES[0]) == 1.0
    only_common = index.coverage(query, "Moscow")
    assert 0.0 < only_common < 0.5  # Moscow is in two passages, Patrushev in one
    with_unknown = index.query_terms(tokenize("Patrushev Moscow zebra"))
    assert index.coverage(with_unknown, PASSAGES[0]) < 0.6


def test_sentence_coverage_matches_coverage_of_each_sentence_text() -> None:
    index = LexicalIndex.build(PASSAGES, SENTENCES)
    query = index.query_terms(tokenize("Did Wang Yi discuss apples in Moscow?"))
    rows = np.array([2, 0, 1], dtype=np.int64)
    expected = [index.coverage(query, SENTENCES[i]) for i in rows]
    assert np.allclose(index.sentence_coverage(query, rows), expected)


def test_passage_coverage_counts_each_term_once_across_the_passages_sentences() -> None:
    sentences = ["Wang Yi met Patrushev.", "In Moscow, Wang Yi spoke.", "Apples were a record."]
    index = LexicalIndex.build(PASSAGES, sentences)
    query = index.query_terms(tokenize("What did Wang Yi say in Moscow about apples?"))
    bounds = np.array([[0, 2], [2, 3], [0, 3]], dtype=np.int64)  # passages as sentence ranges
    expected = [index.coverage(query, " ".join(sentences[a:b])) for a, b in bounds]
    assert np.allclose(index.passage_coverage(query, bounds), expected)
    assert index.passage_coverage(query, bounds)[2] == 1.0


def test_saved_index_loads_with_the_same_scores(tmp_path) -> None:
    index = LexicalIndex.build(PASSAGES, SENTENCES)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    tokens = tokenize("security in Moscow")
    assert np.allclose(loaded.scores(tokens), index.scores(tokens))
    assert loaded.sentences == 3
