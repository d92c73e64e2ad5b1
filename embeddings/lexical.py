"""BM25 over passages (title included). The only module that imports bm25s and PyStemmer.

Besides BM25 scores it answers "how much of the question's weight does this text contain?"
(idf-weighted term coverage), an absolute signal that z-scored BM25 cannot give, used to
pick the answer sentence and to decide when to decline.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexIncompatibleError, MissingDependencyError

try:
    import bm25s
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"BM25 support is missing ({_error}); pip install bm25s PyStemmer"
    ) from None

Scores = npt.NDArray[np.float32]

# bm25s logs every index build at DEBUG through its own handler; our progress output is enough.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Lucene's short English list, plus what questions add: interrogatives, auxiliaries, pronouns
# and reporting verbs ("What did X say about Y?" should match on X and Y alone).
_QUESTION_WORDS = """
    what who whom whose which when where why how about do does did done has have had having
    were been being am from its his her hers he she we you i me my our ours us them him
    would could should can may might must shall than so also any all some much many more most
    very just only other same own too out up down over under again further once here those
    said say says saying told tell tells telling according
"""
_STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(_QUESTION_WORDS.split())
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words (stopwords and reporting verbs dropped)."""
    return [
        _stem(word)
        for word in _TOKEN.findall(text.lower())
        if word not in _STOPWORDS and (len(word) > 1 or word.isdigit())
    ]


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """A question's distinct terms: vocabulary ids (sorted) with idf weights, and the total
    idf weight of all its terms, including ones the archive never uses."""

    ids: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    total: float


class LexicalIndex:
    """BM25 over passages; idf-weighted term coverage of passages and of single sentences."""

    def __init__(
        self,
        retriever: Any,
        vocabulary: list[str],
        document_frequency: npt.NDArray[np.int64],
        sentence_terms: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    ) -> None:
        self._retriever = retriever
        self._vocabulary = vocabulary
        self._term_id = {term: i for i, term in enumerate(vocabulary)}
        self._df = document_frequency
        self.size = int(retriever.scores["num_docs"]) if retriever is not None else 0
        # Distinct term ids of each sentence, CSR style: sentence i owns
        # ids[indptr[i]:indptr[i + 1]].
        self._sentence_indptr, self._sentence_ids = sentence_terms

    @classmethod
    def build(cls, passages: Sequence[str], sentences: Sequence[str]) -> LexicalIndex:
        corpus = [tokenize(text) for text in passages]
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        # bm25s needs at least one token per document; an empty one is harmless.
        retriever.index([tokens or [""] for tokens in corpus], show_progress=False)
        counts: dict[str, int] = {}
        for tokens in corpus:
            for token in set(tokens):
                counts[token] = counts.get(token, 0) + 1
        vocabulary = sorted(counts)
        term_id = {term: i for i, term in enumerate(vocabulary)}
        per_sentence = [
            sorted({term_id[t] for t in tokenize(text) if t in term_id}) for text in sentences
        ]
        indptr = np.zeros(len(sentences) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(ids) for ids in per_sentence])
        ids = np.fromiter((i for row in per_sentence for i in row), dtype=np.int64)
        df = np.array([counts[t] for t in vocabulary], dtype=np.int64)
        return cls(retriever, vocabulary, df, (indptr, ids))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory))
        with (directory / "vocabulary.json").open("w", encoding="utf-8") as handle:
            json.dump(self._vocabulary, handle, ensure_ascii=False)
        np.savez(
            directory / "terms.npz",
            df=self._df,
            sentence_indptr=self._sentence_indptr,
            sentence_ids=self._sentence_ids,
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        try:
            retriever = bm25s.BM25.load(str(directory))
            with (directory / "vocabulary.json").open(encoding="utf-8") as handle:
                vocabulary = json.load(handle)
            with np.load(directory / "terms.npz") as terms:
                df = terms["df"]
                sentence_terms = (terms["sentence_indptr"], terms["sentence_ids"])
        except (OSError, ValueError, KeyError) as error:
            raise IndexIncompatibleError(f"the BM25 index is damaged ({error})") from None
        if len(vocabulary) != len(df):
            raise IndexIncompatibleError("the BM25 vocabulary does not match its frequencies")
        return cls(retriever, vocabulary, df, sentence_terms)

    @property
    def sentences(self) -> int:
        return len(self._sentence_indptr) - 1

    def scores(self, query_tokens: Sequence[str]) -> Scores:
        """BM25 score of every passage for the (tokenized) question."""
        known = [t for t in query_tokens if t in self._term_id]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def _idf(self, df: npt.NDArray[np.int64] | int) -> Any:
        return np.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def query_terms(self, query_tokens: Sequence[str]) -> QueryTerms:
        unique = set(query_tokens)
        ids = np.array(sorted(self._term_id[t] for t in unique if t in self._term_id), np.int64)
        weights = np.asarray(self._idf(self._df[ids]), dtype=np.float64)
        unknown = len(unique) - len(ids)  # never seen in the archive: the rarest of all
        total = float(weights.sum()) + unknown * float(self._idf(0))
        return QueryTerms(ids, weights, total)

    def coverage(self, query: QueryTerms, text: str) -> float:
        """Share of the question's idf weight whose terms occur in `text` (0..1)."""
        if query.total == 0.0:
            return 0.0
        present = {self._term_id[t] for t in tokenize(text) if t in self._term_id}
        return (
            float(sum(w for i, w in zip(query.ids, query.weights, strict=True) if i in present))
            / query.total
        )

    def sentence_coverage(self, query: QueryTerms, rows: npt.NDArray[np.int64]) -> Scores:
        """Coverage (as in `coverage`) of each of the given sentences, from stored terms."""
        if query.total == 0.0 or len(query.ids) == 0 or len(rows) == 0:
            return np.zeros(len(rows), dtype=np.float32)
        starts = self._sentence_indptr[rows]
        lengths = self._sentence_indptr[rows + 1] - starts
        # Every stored term of the chosen sentences, with the index of the sentence it is in.
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        terms = self._sentence_ids[np.arange(int(lengths.sum())) + offsets]
        owner = np.repeat(np.arange(len(rows)), lengths)
        position = np.minimum(np.searchsorted(query.ids, terms), len(query.ids) - 1)
        weight = np.where(query.ids[position] == terms, query.weights[position], 0.0)
        covered = np.bincount(owner, weights=weight, minlength=len(rows))
        return (covered / query.total).astype(np.float32)

    def passage_coverage(self, query: QueryTerms, bounds: npt.NDArray[np.int64]) -> Scores:
        """Coverage of each passage given by its sentence rows [start, end), from the stored
        sentence terms: a term counts once per passage, whichever sentences hold it."""
        if query.total == 0.0 or len(query.ids) == 0 or len(bounds) == 0:
            return np.zeros(len(bounds), dtype=np.float32)
        lengths = bounds[:, 1] - bounds[:, 0]
        rows = np.repeat(bounds[:, 0], lengths) + (
            np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        starts = self._sentence_indptr[rows]
        counts = self._sentence_indptr[rows + 1] - starts
        terms = self._sentence_ids[
            np.repeat(starts, counts)
            + (np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts))
        ]
        owner = np.repeat(np.repeat(np.arange(len(bounds)), lengths), counts)
        position = np.minimum(np.searchsorted(query.ids, terms), len(query.ids) - 1)
        hit = query.ids[position] == terms
        pairs = np.unique(owner[hit] * len(query.ids) + position[hit])
        covered = np.bincount(
            pairs // len(query.ids),
            weights=query.weights[pairs % len(query.ids)],
            minlength=len(bounds),
        )
        return (covered / query.total).astype(np.float32)
