"""Followed topics against newly indexed articles: which new passage would be a confident
answer to which topic.

A followed topic is asked like any question, but only of the passages of the articles that
just arrived: scoring the whole archive for every topic after every feed poll would cost a
full search per topic, while the new passages are a handful of rows. Each new passage is
judged as if it were the top result of a search for the topic, with the same signals and the
same decline calibration as `Searcher.search`: it matches when that search would have
answered with it rather than declined. The decline features are absolute similarities
(dense, best sentence, rare-word coverage, multilingual), so they mean the same whether the
passage is compared with the whole archive or alone. The one relative feature, the margin by
which a topic in another language's best passage stands out, is taken against the topic's
top passages in the whole archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.index.lexical import tokenize
from embeddings.index.rows import passage_key
from embeddings.ranking.search import (
    CROSSLINGUAL_CALIBRATION,
    Floats,
    Ranking,
    Result,
    Rows,
    Searcher,
)
from embeddings.text.language import is_english

MARGIN_PEERS = 20  # as in Searcher.decline_features: the next passages a margin is taken over


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """The best passage of one new article for one topic, confident enough to answer it."""

    topic: int  # index into the topics matched
    confidence: float
    result: Result


def article_rows(searcher: Searcher, article_ids: Sequence[str]) -> Rows:
    """The passage rows of `article_ids` in the searcher's generation.

    Rows are found by their (article, position) key, position 0 upwards until a position is
    missing; where a key is held by two rows (a changed article: its dead base row and its
    delta row) the later one is the live one."""
    keys = searcher.generation.passage_keys
    order = np.argsort(keys, kind="stable")  # equal keys keep row order: the last is live
    ordered = keys[order]
    found: list[int] = []
    for article_id in article_ids:
        position = 0
        while True:
            key = passage_key(article_id, position)
            end = int(np.searchsorted(ordered, key, side="right"))
            if end == 0 or ordered[end - 1] != key:
                break
            found.append(int(order[end - 1]))
            position += 1
    return np.array(sorted(found), dtype=np.int64)


def match_topics(searcher: Searcher, topics: Sequence[str], rows: Rows) -> list[TopicMatch]:
    """For each topic and each article among `rows`, its best passage when the decline
    calibration would answer the topic with it; best first within a topic."""
    if len(rows) == 0 or not topics:
        return []
    g = searcher.generation
    passages = g.passage_rows([int(r) for r in rows])
    vectors = searcher.encoder.encode(list(topics))
    dense = g.passages.rows(rows) @ vectors.T  # passages × topics, in one product
    matches: list[TopicMatch] = []
    for index, topic in enumerate(topics):
        ranking, peers = _ranking(searcher, topic, vectors[index], dense[:, index], rows)
        calibration = searcher.calibration if peers is None else CROSSLINGUAL_CALIBRATION
        best: dict[str, TopicMatch] = {}
        for i, row in enumerate(ranking.rows):
            stored = passages[int(row)]
            alone = _alone(ranking, i, peers)
            result = searcher._result(alone, 0, stored)
            # What the passage was indexed with, as Searcher.search reads it.
            text = "\n".join(filter(None, (result.title, result.asked, result.text)))
            confidence = calibration.probability(searcher.decline_features(alone, text))
            kept = best.get(stored.article_id)
            if confidence >= calibration.threshold and (
                kept is None or confidence > kept.confidence
            ):
                best[stored.article_id] = TopicMatch(index, confidence, result)
        matches += sorted(best.values(), key=lambda m: -m.confidence)
    return matches


def _ranking(
    searcher: Searcher, topic: str, vector: Floats, dense: Floats, rows: Rows
) -> tuple[Ranking, Floats | None]:
    """The signals of `rows` for `topic` as `Searcher.signals` computes them for its
    candidates (in the given order; nothing is fused), and for a topic in another language
    the multilingual similarities of its best passages in the whole archive (the peers its
    margin is measured against)."""
    g = searcher.generation
    query = g.lexical.query_terms(tokenize(topic))
    unfused = np.zeros(len(rows), np.float32)
    if searcher.multilingual is None or g.multilingual is None:
        best, sentence = searcher._best_sentences(rows, g.sentences, vector, query)
        return Ranking(rows, unfused, dense, sentence, best, query), None
    other = searcher.multilingual.encode_query(topic)
    ml_passages, ml_sentences = g.multilingual
    similar = ml_passages.rows(rows) @ other
    if is_english(topic):
        best, sentence = searcher._best_sentences(rows, g.sentences, vector, query)
        return Ranking(rows, unfused, dense, sentence, best, query, None, similar), None
    best, sentence = searcher._best_sentences(rows, ml_sentences, other, None)
    scores, hits = ml_passages.search(other, MARGIN_PEERS)
    peers = scores[hits >= 0][: MARGIN_PEERS - 1]
    return Ranking(rows, unfused, dense, sentence, best, query, similar), peers


def _alone(ranking: Ranking, i: int, peers: Floats | None) -> Ranking:
    """Candidate `i` as the top of a ranking, which is what the decline features read: a
    topic in another language gets the archive's peers after it, for its margin."""
    one = slice(i, i + 1)
    translated = None
    if ranking.translated is not None and peers is not None:
        translated = np.concatenate([ranking.translated[one], peers]).astype(np.float32)
    multilingual = None if ranking.multilingual is None else ranking.multilingual[one]
    return Ranking(ranking.rows[one], ranking.fused[one], ranking.dense[one],
                   ranking.sentence[one], ranking.best_sentence[one], ranking.query,
                   translated, multilingual)  # fmt: skip
