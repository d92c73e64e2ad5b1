"""Where an index lives, as the ranker and the indexer see it: one small interface that the
FAISS index directory (`embeddings.index.directory`) and PostgreSQL
(`embeddings.index.postgres`) implement.

`Searcher` (fusion, answer sentence, decline) and the indexer (planning, encoding, vector
reuse) are written once against these protocols, so both backends give the same answers for
the same index: they differ only in where vectors, rows and lexical statistics come from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from embeddings.index.directory.store import Manifest, SegmentRows
    from embeddings.index.lexical import LexicalIndex

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]


class VectorSpace(Protocol):
    """One set of vectors (passages or sentences of one model); row i is item i."""

    def __len__(self) -> int: ...

    def search(self, query: Matrix, k: int) -> tuple[Matrix, Ids]:
        """Top-k (scores, rows) by inner product; rows are -1 past the end."""
        ...

    def rows(self, ids: Ids) -> Matrix:
        """The stored vectors of `ids`, in that order: the ranker scores these itself, so
        both backends compute every similarity with the same arithmetic."""
        ...

    def all(self) -> Matrix:
        """Every stored vector (the indexer reuses them by digest)."""
        ...


class LexicalScores(Protocol):
    """A question's lexical scores over the passages of one generation."""

    def top(self, k: int) -> Ids:
        """Rows of the k best-scoring passages with a positive score (unordered)."""
        ...

    def at(self, rows: Ids) -> npt.NDArray[np.float32]:
        """The score of each of `rows` (0 where the passage does not match)."""
        ...


class DenseLexicalScores:
    """Scores held for every passage at once (in-process BM25)."""

    def __init__(self, scores: npt.NDArray[np.float32]) -> None:
        self._scores = scores

    def top(self, k: int) -> Ids:
        positive = np.flatnonzero(self._scores > 0)
        if len(positive) > k:
            positive = positive[np.argpartition(self._scores[positive], -k)[-k:]]
        return positive.astype(np.int64)

    def at(self, rows: Ids) -> npt.NDArray[np.float32]:
        return self._scores[rows]


class IndexGeneration(Protocol):
    """One complete, immutable generation of the index, loaded for searching."""

    # Read-only (properties) so that implementations may narrow the types.
    @property
    def manifest(self) -> Manifest: ...
    @property
    def name(self) -> str: ...
    @property
    def passages(self) -> VectorSpace: ...
    @property
    def sentences(self) -> VectorSpace: ...
    @property
    def multilingual(self) -> tuple[VectorSpace, VectorSpace] | None: ...
    @property
    def lexical(self) -> LexicalIndex:
        """idf statistics and term coverage (and BM25 where it is kept in-process)."""
        ...

    @property
    def sentence_passage(self) -> Ids:
        """Sentence row → passage row."""
        ...

    @property
    def sentence_spans(self) -> Ids:
        """Sentence row → (start, end) in its passage's text."""
        ...

    @property
    def passage_sentences(self) -> Ids:
        """Passage row → [first, last + 1) sentence rows."""
        ...

    @property
    def passage_keys(self) -> Ids:
        """Passage row → a number for its (article, position), whatever row it landed in:
        the ranker breaks ties by it, so equal scores fall the same way in every build."""
        ...

    def lexical_scores(self, tokens: Sequence[str]) -> LexicalScores: ...

    def passage_rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """id → (text, position, article id, title, date, url, source, speaker)."""
        ...

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Portable SQL (`?` placeholders) over this generation's tables `articles`,
        `passages` and `sentences`."""
        ...

    def digests(self) -> tuple[dict[str, int], dict[str, int]]: ...

    def article_digests(self) -> dict[str, str]: ...

    def disk_bytes(self) -> int: ...

    def close(self) -> None: ...


class IndexStore(Protocol):
    """Where generations are kept, which one is current, and how a new one is published."""

    def describe(self) -> str:
        """Where the index is, for messages ("the index in DIR"); never names a secret."""
        ...

    def token(self) -> Hashable | None:
        """Changes whenever another generation becomes current; cheap enough per query."""
        ...

    def has_index(self) -> bool: ...

    def open_current(self, model: str, dimension: int) -> IndexGeneration:
        """The current generation (IndexMissingError if none, IndexIncompatibleError if it
        was made by another model or format)."""
        ...

    def clean_orphans(self) -> None:
        """Remove what a crashed build left, unless a build is running."""
        ...

    def build_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held by the one build that may run at a time; IndexBusyError if another holds it."""
        ...

    def remove_orphans(self) -> None:
        """Under the build lock: remove unfinished generations."""
        ...

    def previous(self, model: str, dimension: int) -> IndexGeneration | None:
        """The serving generation when its vectors can be reused, else None."""
        ...

    def publish(
        self,
        manifest: Manifest,
        base: SegmentRows | IndexGeneration,
        delta: SegmentRows,
        files: dict[str, Any],
        switching: Callable[[], None],
    ) -> Manifest:
        """Under the build lock: write a complete new generation and make it current in one
        atomic step (calling `switching()` just before); on any failure the previous
        generation keeps serving and the new one is removed. Returns the manifest written.

        `base` holds every row, or, for an update, is the serving generation whose base the
        new one shares; `delta` holds the changed articles (empty in a full build). A store
        that cannot share a base only ever gets full builds (see indexer.build_index)."""
        ...
