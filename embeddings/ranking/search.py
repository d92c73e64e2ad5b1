"""Question → ranked, cited passages with the answering sentence marked, or a reasoned decline.

Candidates come from three lists (passage vectors, sentence vectors, BM25). Every candidate is
then scored on three signals:

- dense: the passage's title-aware vector against the question's;
- best sentence: the passage's best sentence, by its vector's similarity to the question plus
  a nudge for the share of the question's rare words it contains. That sentence is also the one
  we mark as the answer, so ranking and marking agree;
- lexical: BM25 over title and passage.

The signals are z-scored over the candidate set and added. Whether to answer at all is a
calibrated probability from absolute signals of the top passage.

A question that is not in English (see `text.language.is_english`) is ranked by the multilingual
model's passage and best-sentence similarities instead, with BM25 for names and numbers; that
model's best sentence is the one marked, and its similarities decide whether to decline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from embeddings.index.backend import IndexGeneration, VectorSpace
from embeddings.index.lexical import QueryTerms, tokenize, with_verb_forms
from embeddings.index.rows import StoredPassage
from embeddings.models.encoder import Encoder, MultilingualModel
from embeddings.ranking.fusion import Calibration, Weights, fuse, fuse_crosslingual
from embeddings.ranking.speaker_intent import asked_speaker, passage_speaker, speaker_match
from embeddings.ranking.time_filter import search_within
from embeddings.ranking.weights import shipped
from embeddings.text.language import is_english
from embeddings.text.verb_forms import asks_in_past
from embeddings.text.when import TimeScope

Floats = npt.NDArray[np.float32]
Rows = npt.NDArray[np.int64]

# Fitted weights and calibrations, with what each was fitted on: weights.json. A calibration
# gives P(the archive holds the answer) and the threshold below which newsdesk declines.
DEFAULT_WEIGHTS = shipped().english_weights.value
MULTILINGUAL_WEIGHTS = shipped().english_multilingual_weights.value
MULTILINGUAL_CALIBRATION = shipped().english_multilingual_calibration.value
DEFAULT_CALIBRATION = shipped().english_calibration.value
CROSSLINGUAL_WEIGHTS = shipped().crosslingual_weights.value
CROSSLINGUAL_CALIBRATION = shipped().crosslingual_calibration.value

CANDIDATES = 50  # taken from each of the passage and BM25 lists (twice as many sentences)
SENTENCE_COVERAGE = 0.3  # weight of rare-word coverage next to a sentence's cosine similarity
NEAR_DUPLICATE = 0.8  # Jaccard overlap of word 3-grams between passages of two articles
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Result:
    article_id: str
    title: str
    date: str | None
    url: str | None
    source: str | None
    position: int
    text: str
    answer_start: int  # the answering sentence is text[answer_start:answer_end]
    answer_end: int
    score: float  # fused score: comparable within one question only
    # For an answer turn of a briefing or interview: the question it answers, shortened to
    # its asking sentences ("Did the issue of the spy balloon come up at all?"); `text` is
    # then the answer alone.
    asked: str | None = None

    @property
    def answer_sentence(self) -> str:
        return self.text[self.answer_start : self.answer_end]


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answered: bool  # False: nothing relevant enough; results are the closest weak matches
    confidence: float  # calibrated probability that the first result answers the question
    results: list[Result]
    # The period searched and/or the newest-or-earliest preference read from the question (or
    # given by the caller); None when the question says nothing about time.
    scope: TimeScope | None = None
    # Declined under an explicit period: dates of articles outside it that do answer, nearest
    # to the period first.
    nearest_dates: tuple[str, ...] = ()
    threshold: float = 0.5  # the calibration's: a confidence below it is declined


@dataclass(frozen=True, slots=True)
class Signals:
    """A question's candidates (passage rows, unordered) and what fusion reads of each."""

    rows: Rows
    dense: Floats  # MiniLM passage similarity
    sentence: Floats  # score of the best sentence
    best_sentence: Rows  # its row in the sentence index
    lexical: Floats  # BM25
    coverage: Floats  # share of the question's idf weight (zeros for other languages)
    query: QueryTerms
    speaker: Floats | None = None  # English questions: speaker match (0 to 1)
    multilingual: Floats | None = None  # the multilingual model's passage similarity
    # A question in another language: the multilingual passage similarity, which then leads
    # (`sentence` and `best_sentence` are then that model's too).
    translated: Floats | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    """Candidates in fused order, with the signals behind the order."""

    rows: Rows  # passage rows
    fused: Floats
    dense: Floats
    sentence: Floats  # score of the best sentence
    best_sentence: Rows  # its row in the sentence index
    query: QueryTerms
    # For a question in another language, the multilingual model's similarity of each
    # candidate passage (`sentence` and `best_sentence` are then that model's too).
    translated: Floats | None = None
    # For an English question, that similarity when the index holds the model's vectors.
    multilingual: Floats | None = None


class Searcher:
    def __init__(
        self,
        generation: IndexGeneration,
        encoder: Encoder,
        weights: Weights | None = None,
        calibration: Calibration | None = None,
        multilingual: MultilingualModel | None = None,
    ) -> None:
        self.generation = generation
        self.encoder = encoder
        self.today: dt.date | None = None  # for relative dates: see time_filter.archive_today
        self.multilingual = multilingual if generation.multilingual is not None else None
        # English questions use the multilingual model's similarity too when it is there.
        english_only = self.multilingual is None
        self.weights = weights or (DEFAULT_WEIGHTS if english_only else MULTILINGUAL_WEIGHTS)
        self.calibration = calibration or (
            DEFAULT_CALIBRATION if english_only else MULTILINGUAL_CALIBRATION
        )

    def signals(self, question: str, depth: int = CANDIDATES) -> Signals:
        """Every candidate for `question`, unordered, with each signal the fusion reads
        (`depth` from each of the passage and BM25 lists, twice as many sentences)."""
        g = self.generation
        tokens = tokenize(question)
        query = g.lexical.query_terms(tokens)
        vector = self.encoder.encode([question])[0]
        _, passage_hits = g.passages.search(vector, depth)
        _, sentence_hits = g.sentences.search(vector, depth * 2)
        # "Who did he meet?" is answered by "he met": BM25 looks for the past forms too. Only
        # BM25: the coverage that picks the marked sentence keeps the question's own words.
        lexical = g.lexical_scores(with_verb_forms(tokens) if asks_in_past(question) else tokens)
        lists = [
            passage_hits[passage_hits >= 0],
            g.sentence_passage[sentence_hits[sentence_hits >= 0]],
            lexical.top(depth),
        ]
        other = None  # the multilingual model's question vector, when the index has its vectors
        if self.multilingual and g.multilingual is not None:
            other = self.multilingual.encode_query(question)
            ml_passages, ml_sentences = g.multilingual
            ml_sentence_hits = ml_sentences.search(other, depth * 2)[1]
            lists += [
                ml_passages.search(other, depth)[1],
                g.sentence_passage[ml_sentence_hits[ml_sentence_hits >= 0]],
            ]
        candidates = np.unique(np.concatenate(lists))
        candidates = candidates[candidates >= 0].astype(np.int64)
        dense = g.passages.rows(candidates) @ vector
        similar = None if other is None else ml_passages.rows(candidates) @ other
        if other is not None and similar is not None and not is_english(question):
            # MiniLM cannot compare a Russian question with English text: the multilingual
            # model's passage and best-sentence similarities lead, BM25 adds the names and
            # numbers that survive translation.
            best_sentence, sentence = self._best_sentences(candidates, ml_sentences, other, None)
            nothing = np.zeros(len(candidates), np.float32)
            return Signals(candidates, dense, sentence, best_sentence, lexical.at(candidates),
                           nothing, query, translated=similar)  # fmt: skip
        best_sentence, sentence = self._best_sentences(candidates, g.sentences, vector, query)
        return Signals(
            candidates,
            dense,
            sentence,
            best_sentence,
            lexical.at(candidates),
            g.lexical.passage_coverage(query, g.passage_sentences[candidates]),
            query,
            speaker=self._speaker_match(question, candidates),
            multilingual=similar,
        )

    def rank(self, question: str, depth: int = CANDIDATES) -> Ranking:
        """Every candidate for `question`, best first."""
        s = self.signals(question, depth)
        if s.translated is not None:
            fused = fuse_crosslingual(s.translated, s.sentence, s.lexical, CROSSLINGUAL_WEIGHTS)
        else:
            fused = fuse(s.dense, s.sentence, s.lexical, s.coverage, self.weights, s.speaker,
                         s.multilingual)  # fmt: skip
        # Equal scores (a statement repeated in two articles) in an order that does not
        # depend on which segment, or backend, holds which row.
        order = np.lexsort((self.generation.passage_keys[s.rows], -fused))
        return Ranking(
            s.rows[order],
            fused[order],
            s.dense[order],
            s.sentence[order],
            s.best_sentence[order],
            s.query,
            s.translated[order] if s.translated is not None else None,
            s.multilingual[order] if s.multilingual is not None else None,
        )

    def _speaker_match(self, question: str, candidates: Rows) -> Floats:
        """Per candidate, how well its speaker matches the one the question asks about
        (all zeros, and no passage read, when the question names nobody)."""
        asked = asked_speaker(question)
        if not asked or len(candidates) == 0:
            return np.zeros(len(candidates), np.float32)
        rows = self.generation.passage_rows([int(r) for r in candidates])
        passages = (rows[int(r)] for r in candidates)
        matches = [
            speaker_match(asked, passage_speaker(p.text, p.title, p.speaker)) for p in passages
        ]
        return np.array(matches, dtype=np.float32)

    def _best_sentences(
        self, passages: Rows, space: VectorSpace, vector: Floats, query: QueryTerms | None
    ) -> tuple[Rows, Floats]:
        """Per passage: the row of its best sentence and that sentence's score (similarity in
        `space`, plus the coverage nudge when the question's words can be matched)."""
        if len(passages) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        g = self.generation
        bounds = g.passage_sentences[passages]
        lengths = bounds[:, 1] - bounds[:, 0]
        rows = np.concatenate([np.arange(a, b) for a, b in bounds])
        scores = space.rows(rows) @ vector
        if query is not None:
            scores += SENTENCE_COVERAGE * g.lexical.sentence_coverage(query, rows)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        best = np.maximum.reduceat(scores, starts)
        # The first sentence reaching its passage's maximum.
        owner = np.repeat(np.arange(len(passages)), lengths)
        at_max = np.flatnonzero(scores == best[owner])
        first = at_max[np.unique(owner[at_max], return_index=True)[1]]
        return rows[first].astype(np.int64), best.astype(np.float32)

    def search(self, question: str, top: int = 3, scope: TimeScope | None = None,
               source: str | None = None) -> Answer:  # fmt: skip
        """The best `top` passages for `question`, within the period or recency the question
        names and the `scope` and `source` given (see `ranking.time_filter`)."""
        return search_within(self, question, top, scope, source)

    def answer(self, question: str, ranking: Ranking, top: int) -> Answer:
        """The answer a ranking gives: its first `top` passages, near-duplicates set aside,
        and whether the first is good enough to answer with."""
        if len(ranking.rows) == 0:
            return Answer(question, False, 0.0, [])
        # Enough of the ranking to fill `top` even after near-duplicates are set aside.
        pool = [int(row) for row in ranking.rows[: top * 4 + 10]]
        rows = self.generation.passage_rows(pool)
        picked = collapse_near_duplicates([(rows[r].article_id, rows[r].text) for r in pool], top)
        results = [self._result(ranking, i, rows[pool[i]]) for i in picked]
        first = results[0]
        calibration = self.calibration if ranking.translated is None else CROSSLINGUAL_CALIBRATION
        confidence = calibration.probability(
            # What the passage was indexed with: an answer turn's question included.
            self.decline_features(
                ranking, "\n".join(filter(None, (first.title, first.asked, first.text)))
            )
        )
        threshold = calibration.threshold
        return Answer(question, confidence >= threshold, confidence, results, threshold=threshold)

    def confidence(self, ranking: Ranking, top_text: str) -> float:
        """Calibrated probability that the top passage answers the question."""
        return self.calibration.probability(self.decline_features(ranking, top_text))

    def decline_features(self, ranking: Ranking, top_text: str) -> dict[str, float]:
        """Absolute (not z-scored) signals of the top passage: comparable across questions."""
        if ranking.translated is not None:  # a question in another language
            # How far the top passage stands out from the next ones: a question about an
            # absent topic finds many passages about equally (dis)similar.
            rest = ranking.translated[1:20]
            margin = float(ranking.translated[0] - np.median(rest)) if len(rest) else 0.0
            return {"translated": float(ranking.translated[0]),
                    "sentence": float(ranking.sentence[0]), "margin": margin}  # fmt: skip
        english = {
            "dense": float(ranking.dense[0]),
            "sentence": float(ranking.sentence[0]),
            "coverage": self.generation.lexical.coverage(ranking.query, top_text),
        }
        if ranking.multilingual is not None:
            english["multilingual"] = float(ranking.multilingual[0])
        return english

    def _result(self, ranking: Ranking, index: int, row: StoredPassage) -> Result:
        start, end = self.generation.sentence_spans[ranking.best_sentence[index]]
        opens = self.answer_offset(int(ranking.rows[index]))
        return Result(
            article_id=row.article_id,
            title=row.title,
            date=row.date,
            url=row.url,
            source=row.source,
            position=row.position,
            text=row.text[opens:],
            answer_start=int(start) - opens,
            answer_end=int(end) - opens,
            score=float(ranking.fused[index]),
            asked=row.text[:opens].strip() or None,
        )

    def answer_offset(self, row: int) -> int:
        """Where the shown text of passage `row` starts: an answer turn is stored with the
        question it answers before its first sentence (only the answer's sentences are
        indexed as sentences); any other passage starts at 0."""
        g = self.generation
        return int(g.sentence_spans[g.passage_sentences[row][0]][0])


def collapse_near_duplicates(passages: Sequence[tuple[object, str]], top: int) -> list[int]:
    """Indices of the first `top` (article id, text) pairs, skipping any whose text nearly
    repeats an already kept passage of another article.

    The same statement is often published in several places (a readout and the fact sheet
    quoting it, a wire story and its repost); the reader should see it once, in its best place.
    """
    kept: list[tuple[object, frozenset[tuple[str, ...]]]] = []
    picked: list[int] = []
    for index, (article, text) in enumerate(passages):
        if len(picked) == top:
            break
        shingles = _shingles(text)
        if any(other != article and _jaccard(shingles, seen) >= NEAR_DUPLICATE
               for other, seen in kept):  # fmt: skip
            continue
        kept.append((article, shingles))
        picked.append(index)
    return picked


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _WORDS.findall(text.casefold())
    return frozenset(zip(words, words[1:], words[2:], strict=False)) or frozenset({tuple(words)})


def _jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
