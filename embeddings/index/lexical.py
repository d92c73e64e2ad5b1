"""BM25 over passages (title included). The only module that imports PyStemmer.

Besides BM25 scores it answers "how much of the question's weight does this text contain?"
(idf-weighted term coverage), an absolute signal that z-scored BM25 cannot give, used to
pick the answer sentence and to decide when to decline.

The index stores raw term counts (postings) and passage lengths, not scores, and computes
BM25 (Lucene's variant, as bm25s did: idf log(1 + (N - df + .5) / (df + .5)), term part
tf / (tf + k1 (1 - b + b len / avglen))) when asked. So a generation made of a base segment
and a delta segment, with the base's changed and deleted passages left out, scores exactly as
one index rebuilt from scratch: N, df and the average length are those of the live passages.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexIncompatibleError, MissingDependencyError
from embeddings.text.verb_forms import verb_groups

try:
    import Stemmer
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"BM25 support is missing ({_error}); pip install PyStemmer"
    ) from None

Scores = npt.NDArray[np.float32]

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Lucene's short English stopword list (bm25s's STOPWORDS_EN, written out: importing bm25s for
# it, scipy included, cost every `newsdesk ask` a fifth of a second), plus what questions add:
# interrogatives, auxiliaries, pronouns and reporting verbs ("What did X say about Y?" should
# match on X and Y alone).
_LUCENE_STOPWORDS = """
    a an and are as at be but by for if in into is it no not of on or such that the their then
    there these they this to was will with
"""
_QUESTION_WORDS = """
    what who whom whose which when where why how about do does did done has have had having
    were been being am from its his her hers he she we you i me my our ours us them him
    would could should can may might must shall than so also any all some much many more most
    very just only other same own too out up down over under again further once here those
    said say says saying told tell tells telling according
"""
_STOPWORDS = frozenset(_LUCENE_STOPWORDS.split()) | frozenset(_QUESTION_WORDS.split())
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


@cache
def _past_forms() -> dict[str, tuple[str, ...]]:
    """An irregular verb's stem -> the stems of its past forms ("meet" -> "met")."""
    forms: dict[str, tuple[str, ...]] = {}
    for group in verb_groups():
        stems = tuple(dict.fromkeys(_stem(word) for word in group))
        forms[stems[0]] = stems[1:]
    return forms


def with_verb_forms(tokens: Sequence[str]) -> list[str]:
    """A past-tense question's terms plus the past forms of its irregular verbs, for BM25:
    "did they meet" should match "they met" (`embeddings.text.verb_forms`)."""
    forms = _past_forms()
    extra = (other for token in tokens for other in forms.get(token, ()))
    return [*tokens, *(term for term in dict.fromkeys(extra) if term not in tokens)]


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


Ints = npt.NDArray[np.int64]

K1 = 1.2
B = 0.75


class LexicalSegment:
    """Term statistics of one segment's passages and sentences.

    Term ids continue those of the segment before (the base, for a delta): `vocabulary` holds
    only the terms this segment adds, numbered from `first_term`, and `indptr` spans every id
    known up to here. `removed_terms`/`removed_counts` are the document frequencies of the
    earlier segment's passages that this segment replaces (changed or deleted articles).
    """

    def __init__(self, vocabulary: list[str], first_term: int, arrays: dict[str, Ints]) -> None:
        self.vocabulary = vocabulary
        self.first_term = first_term
        self.term_id = {term: first_term + i for i, term in enumerate(vocabulary)}
        self.indptr = arrays["indptr"]  # postings of term t: docs[indptr[t]:indptr[t + 1]]
        self.docs = arrays["docs"]  # passage, counted within the segment
        self.counts = arrays["counts"]  # occurrences of the term in that passage
        self.lengths = arrays["lengths"]  # tokens per passage (at least 1, as bm25s counted)
        # Distinct term ids of each sentence, CSR style: sentence i owns
        # sentence_ids[sentence_indptr[i]:sentence_indptr[i + 1]].
        self.sentence_indptr = arrays["sentence_indptr"]
        self.sentence_ids = arrays["sentence_ids"]
        self.removed_terms = arrays["removed_terms"]
        self.removed_counts = arrays["removed_counts"]

    @property
    def terms(self) -> int:
        return len(self.indptr) - 1

    @property
    def passages(self) -> int:
        return len(self.lengths)

    @property
    def sentences(self) -> int:
        return len(self.sentence_indptr) - 1

    @classmethod
    def build(
        cls,
        passages: Sequence[str],
        sentences: Sequence[str],
        before: LexicalSegment | None = None,
        removed: Sequence[str] = (),
    ) -> LexicalSegment:
        """Statistics of `passages` (what BM25 reads: title and text) and `sentences` (what
        coverage reads); `removed` are the texts of `before`'s passages that this replaces."""
        corpus = [tokenize(text) for text in passages]
        earlier = before.term_id if before is not None else {}
        first = before.terms if before is not None else 0
        added = sorted({t for tokens in corpus for t in tokens if t not in earlier})
        own = {term: first + i for i, term in enumerate(added)}

        def term_id(term: str) -> int | None:
            found = own.get(term)
            return found if found is not None else earlier.get(term)

        terms, docs, counts = [], [], []
        for doc, tokens in enumerate(corpus):
            for term, count in Counter(tokens).items():
                terms.append(own[term] if term in own else earlier[term])
                docs.append(doc)
                counts.append(count)
        term_array = np.array(terms, dtype=np.int64)
        order = np.lexsort((np.array(docs, dtype=np.int64), term_array))
        indptr = np.zeros(first + len(added) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(term_array, minlength=first + len(added)))
        per_sentence = [
            sorted({i for i in map(term_id, tokenize(text)) if i is not None}) for text in sentences
        ]
        sentence_indptr = np.zeros(len(sentences) + 1, dtype=np.int64)
        sentence_indptr[1:] = np.cumsum([len(ids) for ids in per_sentence])
        gone: Counter[int] = Counter()
        for text in removed:
            gone.update(i for i in map(earlier.get, set(tokenize(text))) if i is not None)
        arrays = {
            "indptr": indptr,
            "docs": np.array(docs, dtype=np.int64)[order],
            "counts": np.array(counts, dtype=np.int64)[order],
            # bm25s indexed an empty passage as one empty token; so does this, for its length.
            "lengths": np.array([max(len(tokens), 1) for tokens in corpus], dtype=np.int64),
            "sentence_indptr": sentence_indptr,
            "sentence_ids": np.fromiter((i for row in per_sentence for i in row), np.int64),
            "removed_terms": np.array(sorted(gone), dtype=np.int64),
            "removed_counts": np.array([gone[i] for i in sorted(gone)], dtype=np.int64),
        }
        return cls(added, first, arrays)

    def save(self, directory: Path) -> None:
        with (directory / "vocabulary.json").open("w", encoding="utf-8") as handle:
            json.dump({"first_term": self.first_term, "terms": self.vocabulary}, handle,
                      ensure_ascii=False)  # fmt: skip
        np.savez(
            directory / "postings.npz",
            indptr=self.indptr,
            docs=self.docs.astype(np.int32),  # half the bytes; a segment has < 2**31 rows
            counts=self.counts.astype(np.int32),
            lengths=self.lengths.astype(np.int32),
            sentence_indptr=self.sentence_indptr,
            sentence_ids=self.sentence_ids.astype(np.int32),
            removed_terms=self.removed_terms,
            removed_counts=self.removed_counts,
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalSegment:
        try:
            with (directory / "vocabulary.json").open(encoding="utf-8") as handle:
                vocabulary = json.load(handle)
            with np.load(directory / "postings.npz") as stored:
                # As stored: the int32 columns widen where they meet int64 rows and floats.
                arrays = {name: stored[name] for name in stored.files}
            segment = cls(list(vocabulary["terms"]), int(vocabulary["first_term"]), arrays)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise IndexIncompatibleError(f"the BM25 index is damaged ({error})") from None
        if segment.terms != segment.first_term + len(segment.vocabulary) or (
            len(segment.docs) != segment.indptr[-1]
        ):
            raise IndexIncompatibleError("the BM25 vocabulary does not match its postings")
        return segment


class LexicalIndex:
    """BM25 over passages; idf-weighted term coverage of passages and of single sentences.

    Reads one or more segments as one index (rows numbered on from one segment to the next)
    with the `dead` passage rows left out of every statistic and every score."""

    def __init__(self, segments: Sequence[LexicalSegment], dead: Ints | None = None) -> None:
        self._segments = list(segments)
        self._starts = np.cumsum([0, *(s.passages for s in self._segments)]).astype(np.int64)
        self._sentence_starts = np.cumsum([0, *(s.sentences for s in self._segments)]).astype(
            np.int64
        )
        self._dead = np.unique(dead) if dead is not None else np.zeros(0, np.int64)
        df = np.zeros(self._segments[-1].terms, dtype=np.int64)
        for segment in self._segments:
            df[: segment.terms] += np.diff(segment.indptr)
            np.subtract.at(df, segment.removed_terms, segment.removed_counts)
        self._df = df
        lengths = np.concatenate([s.lengths for s in self._segments]).astype(np.float64)
        self.size = len(lengths) - len(self._dead)  # live passages: BM25's N
        average = (lengths.sum() - lengths[self._dead].sum()) / self.size if self.size else 1.0
        self._norm = K1 * (1.0 - B + B * lengths / average)

    @classmethod
    def build(cls, passages: Sequence[str], sentences: Sequence[str]) -> LexicalIndex:
        return cls([LexicalSegment.build(passages, sentences)])

    def save(self, directory: Path) -> None:
        """Saves the one segment of an index built by `build`."""
        self._segments[0].save(directory)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        return cls([LexicalSegment.load(directory)])

    @property
    def rows(self) -> int:
        """Passage rows, dead ones included."""
        return int(self._starts[-1])

    @property
    def sentences(self) -> int:
        """Sentence rows, dead ones included."""
        return int(self._sentence_starts[-1])

    def _term(self, term: str) -> int | None:
        """The id of a term some live passage uses; None for any other."""
        for segment in self._segments:
            found = segment.term_id.get(term)
            if found is not None:
                return found if self._df[found] > 0 else None
        return None

    def scores(self, query_tokens: Sequence[str]) -> Scores:
        """BM25 score of every passage row (0 for dead ones) for the (tokenized) question.
        A term repeated in the question counts again, as in bm25s."""
        total = np.zeros(self.rows, dtype=np.float64)
        for term in (i for i in map(self._term, query_tokens) if i is not None):
            idf = float(self._idf(self._df[term]))
            for segment, start in zip(self._segments, self._starts, strict=False):
                if term >= segment.terms:
                    continue
                low, high = segment.indptr[term], segment.indptr[term + 1]
                docs = segment.docs[low:high] + start
                counts = segment.counts[low:high]
                total[docs] += idf * counts / (counts + self._norm[docs])
        total[self._dead] = 0.0
        return total.astype(np.float32)

    def _idf(self, df: npt.NDArray[np.int64] | int) -> Any:
        return np.log(1.0 + (self.size - df + 0.5) / (df + 0.5))

    def query_terms(self, query_tokens: Sequence[str]) -> QueryTerms:
        unique = set(query_tokens)
        ids = np.array(sorted(i for i in map(self._term, unique) if i is not None), np.int64)
        weights = np.asarray(self._idf(self._df[ids]), dtype=np.float64)
        unknown = len(unique) - len(ids)  # never seen in the archive: the rarest of all
        total = float(weights.sum()) + unknown * float(self._idf(0))
        return QueryTerms(ids, weights, total)

    def coverage(self, query: QueryTerms, text: str) -> float:
        """Share of the question's idf weight whose terms occur in `text` (0..1)."""
        if query.total == 0.0:
            return 0.0
        present = {i for i in map(self._term, tokenize(text)) if i is not None}
        return (
            float(sum(w for i, w in zip(query.ids, query.weights, strict=True) if i in present))
            / query.total
        )

    def _sentence_terms(self, rows: Ints) -> tuple[Ints, Ints]:
        """(stored term ids of the given sentence rows, in row order; how many each has)."""
        part = np.searchsorted(self._sentence_starts, rows, side="right") - 1
        lengths = np.zeros(len(rows), dtype=np.int64)
        starts = np.zeros(len(rows), dtype=np.int64)
        for number, segment in enumerate(self._segments):
            mine = part == number
            local = rows[mine] - self._sentence_starts[number]
            starts[mine] = segment.sentence_indptr[local]
            lengths[mine] = segment.sentence_indptr[local + 1] - starts[mine]
        terms = np.zeros(int(lengths.sum()), dtype=np.int64)
        offsets = np.cumsum(lengths) - lengths  # where each row's terms go in `terms`
        for number, segment in enumerate(self._segments):
            mine = np.flatnonzero(part == number)
            count = lengths[mine]
            within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
            terms[np.repeat(offsets[mine], count) + within] = segment.sentence_ids[
                np.repeat(starts[mine], count) + within
            ]
        return terms, lengths

    def sentence_coverage(self, query: QueryTerms, rows: Ints) -> Scores:
        """Coverage (as in `coverage`) of each of the given sentences, from stored terms."""
        if query.total == 0.0 or len(query.ids) == 0 or len(rows) == 0:
            return np.zeros(len(rows), dtype=np.float32)
        terms, lengths = self._sentence_terms(np.asarray(rows, dtype=np.int64))
        owner = np.repeat(np.arange(len(rows)), lengths)
        position = np.minimum(np.searchsorted(query.ids, terms), len(query.ids) - 1)
        weight = np.where(query.ids[position] == terms, query.weights[position], 0.0)
        covered = np.bincount(owner, weights=weight, minlength=len(rows))
        return (covered / query.total).astype(np.float32)

    def passage_coverage(self, query: QueryTerms, bounds: Ints) -> Scores:
        """Coverage of each passage given by its sentence rows [start, end), from the stored
        sentence terms: a term counts once per passage, whichever sentences hold it."""
        if query.total == 0.0 or len(query.ids) == 0 or len(bounds) == 0:
            return np.zeros(len(bounds), dtype=np.float32)
        lengths = bounds[:, 1] - bounds[:, 0]
        rows = np.repeat(bounds[:, 0], lengths) + (
            np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        terms, counts = self._sentence_terms(rows)
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
