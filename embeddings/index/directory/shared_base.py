"""A directory generation as an update in place reads it (`SharedBase`): the new generation
hard-links this one's base segment and writes only a delta (see segment_files.py). Each read
touches the rows of the articles the update changes and the current delta, never the whole
base: an update's cost follows the size of the change, not of the archive."""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from embeddings.index.lexical import LexicalSegment
from embeddings.index.manifest import Manifest
from embeddings.index.rows import ARTICLE_COLUMNS, RemovedPassages, article_from_row
from embeddings.ingest.articles import Article

if TYPE_CHECKING:
    from embeddings.index.directory.generation import Generation


def _marks(values: Sized) -> str:
    """One placeholder per value, for `IN (...)`."""
    return ",".join("?" * len(values))


class DirectoryBase:
    def __init__(self, generation: Generation) -> None:
        self._generation = generation

    @property
    def name(self) -> str:
        return self._generation.name

    @property
    def manifest(self) -> Manifest:
        return self._generation.manifest

    @property
    def base_lexical(self) -> LexicalSegment:
        return self._generation.base.lexical

    def files(self) -> dict[str, Any]:
        return self._generation.files()

    def dead_articles(self) -> set[str]:
        return {str(r[0]) for r in self._generation.query("SELECT id FROM delta.dead_articles")}

    def base_articles(self, ids: Sequence[str]) -> dict[str, Article]:
        rows = self._generation.query(
            f"SELECT {ARTICLE_COLUMNS} FROM base.articles WHERE id IN ({_marks(ids)})", list(ids)
        )
        return {str(row[0]): article_from_row(row) for row in rows}

    def delta_articles(self) -> list[Article]:
        rows = self._generation.query(f"SELECT {ARTICLE_COLUMNS} FROM delta.articles")
        return [article_from_row(row) for row in rows]

    def base_article_count(self) -> int:
        [(articles,)] = self._generation.query("SELECT COUNT(*) FROM base.articles")
        return int(articles)

    def live_digests(self, ids: Sequence[str]) -> dict[str, str]:
        rows = self._generation.query(
            f"SELECT id, digest FROM articles WHERE id IN ({_marks(ids)})", list(ids)
        )
        return {str(a): str(b) for a, b in rows}

    def reusable_digests(self, ids: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
        query = self._generation.query
        rows = self._base_passages(ids)
        passages = {str(d): int(i) for i, d in query(
            f"SELECT id, digest FROM base.passages WHERE id IN ({_marks(rows)}) "
            "UNION ALL SELECT id, digest FROM delta.passages", [int(r) for r in rows])}  # fmt: skip
        # A passage's sentences are a contiguous run of rows (the in-memory bounds): read them
        # by primary key; sentences has no index by passage, and a join would scan the base.
        sentences = {str(d): int(i) for i, d in query("SELECT id, digest FROM delta.sentences")}
        for start, end in self._generation.base.passage_sentences[rows]:
            sentences.update(
                (str(d), int(i))
                for i, d in query(
                    "SELECT id, digest FROM base.sentences WHERE id >= ? AND id < ?",
                    [int(start), int(end)],
                )
            )
        return passages, sentences

    def removed_passages(self, ids: Sequence[str]) -> RemovedPassages:
        inputs = self._generation.query(
            "SELECT a.title, p.text, p.speaker FROM base.passages p "
            f"JOIN base.articles a ON a.id = p.article_id WHERE p.article_id IN ({_marks(ids)})",
            list(ids),
        )
        rows = self._base_passages(ids)
        bounds = self._generation.base.passage_sentences[rows]
        return RemovedPassages(
            inputs=[(str(t), str(x), s) for t, x, s in inputs],
            passages=len(rows),
            sentences=int((bounds[:, 1] - bounds[:, 0]).sum()),
        )

    def _base_passages(self, articles: Sequence[str]) -> npt.NDArray[np.int64]:
        """Rows of the base passages of `articles` (by the index on article id)."""
        rows = self._generation.query(
            f"SELECT id FROM base.passages WHERE article_id IN ({_marks(articles)}) ORDER BY id",
            list(articles),
        )
        return np.array([r[0] for r in rows], dtype=np.int64)
