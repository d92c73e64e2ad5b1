"""Where an index lives, as the ranker, the indexer and the engine see it: one small
interface that the FAISS index directory (`embeddings.index.directory`) and PostgreSQL
(`embeddings.index.postgres`) implement. `embeddings.index.stores.open_store` makes either.

`Searcher` (fusion, answer sentence, decline), the indexer (planning, encoding, vector
reuse) and `Engine` are written once against these protocols, so both backends give the
same answers for the same index: they differ only in where vectors, rows and lexical
statistics come from. Rows and the manifest are typed (`embeddings.index.rows`,
`embeddings.index.manifest`); no caller sends SQL or names a backend's classes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from embeddings.index.lexical import LexicalIndex, LexicalSegment
    from embeddings.index.manifest import Manifest
    from embeddings.index.rows import Catalogue, RemovedPassages, SegmentRows, StoredPassage
    from embeddings.ingest.articles import Article

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
# The lexical signal: BM25 kept with the index (every backend), or a database's own
# full-text search.
Lexical = Literal["bm25", "fts"]

# Rows from which vectors are searched approximately (FAISS: quantized codes re-scored
# exactly; PostgreSQL: an HNSW index) rather than exactly. An exact scan reads every row:
# 2.5 ms a question at 45,000 rows on an idle core and 10+ ms on a loaded 2-core machine,
# while the quantized scan with exact re-scoring takes 0.2-0.4 ms at 100,000-170,000 rows
# for 0.3 % of recall@10. Below this size exact is cheap, and small archives (tests, SQuAD)
# stay exact.
APPROXIMATE_FROM = 20_000


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

    def passage_rows(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        """id → the passage and its article's citation, for the given passages."""
        ...

    def article(self, article_id: str) -> Article | None:
        """The whole article (all its paragraphs), as indexed."""
        ...

    def article_paths(self) -> dict[str, str]:
        """Article id → the file it came from, for every article."""
        ...

    def catalogue(self) -> Catalogue: ...

    def digests(self) -> tuple[dict[str, int], dict[str, int]]:
        """digest → row for passages and for sentences: what a new build may reuse."""
        ...

    def article_digests(self) -> dict[str, str]: ...

    def disk_bytes(self) -> int: ...

    def shared_base(self) -> SharedBase | None:
        """This generation as an update in place reads it, when the backend can write a new
        generation that shares its base segment (only the changed articles are written);
        None where every generation is written whole."""
        ...

    def close(self) -> None: ...


class SharedBase(Protocol):
    """The serving generation, seen by an update in place: the new generation keeps this
    one's base segment as it is, marks some of its articles dead, and replaces its delta
    segment with one holding every article added or changed since the base was written."""

    @property
    def name(self) -> str: ...
    @property
    def manifest(self) -> Manifest: ...
    @property
    def base_lexical(self) -> LexicalSegment:
        """The base segment's BM25 term counts, which the new delta's continue."""
        ...

    def files(self) -> dict[str, Any]:
        """The source files this generation was built from (see updates.FileTable)."""
        ...

    def dead_articles(self) -> set[str]:
        """Base articles that the current delta replaces or that were deleted."""
        ...

    def base_articles(self, ids: Sequence[str]) -> dict[str, Article]:
        """The base segment's rows of the articles `ids`, dead ones included."""
        ...

    def delta_articles(self) -> list[Article]:
        """Every article of the current delta, in row order."""
        ...

    def base_article_count(self) -> int:
        """Articles in the base segment, dead ones included."""
        ...

    def live_digests(self, ids: Sequence[str]) -> dict[str, str]:
        """Article id → digest of the served articles among `ids`."""
        ...

    def reusable_digests(self, ids: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
        """digest → row of the passages and sentences an update may reuse vectors from: the
        base rows of the articles `ids` and the whole current delta (not the whole base)."""
        ...

    def removed_passages(self, ids: Sequence[str]) -> RemovedPassages:
        """The base passages of the articles `ids`, which the update marks dead."""
        ...


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

    def migrate(self) -> bool:
        """Drop what an older version of newsdesk left (the index is derived data), so the
        next build writes the current layout; takes the build lock. False when this store
        has no schema of its own to migrate (a directory's format is in each manifest)."""
        ...

    def publish(
        self,
        manifest: Manifest,
        base: SegmentRows | SharedBase,
        delta: SegmentRows,
        files: dict[str, Any],
        switching: Callable[[], None],
    ) -> Manifest:
        """Under the build lock: write a complete new generation and make it current in one
        atomic step (calling `switching()` just before); on any failure the previous
        generation keeps serving and the new one is removed. Returns the manifest written.

        `base` holds every row, or, for an update, is the serving generation whose base the
        new one shares; `delta` holds the changed articles (empty in a full build). A store
        whose generations offer no `shared_base` only ever gets full builds."""
        ...
