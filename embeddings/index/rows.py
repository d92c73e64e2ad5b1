"""The rows a build writes and a search reads back, the same for every backend."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from embeddings.index.lexical import LexicalSegment
from embeddings.ingest.articles import Article


@dataclass(frozen=True, slots=True)
class ArticleRow:
    article: Article
    digest: str  # over its metadata and passages: tells changed articles from unchanged


@dataclass(frozen=True, slots=True)
class PassageRow:
    article_id: str
    position: int
    text: str
    digest: str
    sentences: Sequence[tuple[int, int, str]]  # (start, end, digest)
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class SegmentRows:
    """Everything one segment holds. Row numbers start at `first_passage`/`first_sentence`
    (a delta's continue its base's); `dead_articles` are base articles it replaces."""

    articles: Sequence[ArticleRow]
    passages: Sequence[PassageRow]
    passage_vectors: npt.NDArray[np.float32]
    sentence_vectors: npt.NDArray[np.float32]
    lexical: LexicalSegment
    multilingual: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None
    first_passage: int = 0
    first_sentence: int = 0
    dead_articles: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class StoredPassage:
    """A passage as a search shows it: its text, and where it comes from."""

    text: str
    position: int
    article_id: str
    title: str
    date: str | None
    url: str | None
    source: str | None
    speaker: str | None = None  # who is quoted, when the text leaves it implicit


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What the index holds, article by article (for `newsdesk stats` and /stats)."""

    by_source: dict[str, int]  # articles per source ("unknown" when an article names none)
    first_date: str | None
    last_date: str | None
    newest_title: str | None


@dataclass(frozen=True, slots=True)
class RemovedPassages:
    """The base passages of the articles an update marks dead."""

    inputs: list[tuple[str, str, str | None]]  # (title, text, speaker): BM25 takes them off
    passages: int
    sentences: int


# The columns `article_from_row` reads, in its order.
ARTICLE_COLUMNS = "id, title, date, url, source, license, path, paragraphs"


def article_from_row(row: Sequence[object]) -> Article:
    """The article a stored row (`ARTICLE_COLUMNS`, paragraphs as a JSON list) holds."""
    id_, title, date, url, source, license_, path, paragraphs = row[:8]
    return Article(
        id=str(id_),
        title=str(title),
        paragraphs=tuple(json.loads(str(paragraphs))),
        date=optional_text(date),
        url=optional_text(url),
        source=optional_text(source),
        license=optional_text(license_),
        path=str(path),
    )


def stored_passage(row: Sequence[object]) -> StoredPassage:
    """A passage from its row: text, position, article id, title, date, url, source, speaker."""
    text, position, article_id, title, date, url, source, speaker = row
    return StoredPassage(
        text=str(text),
        position=int(str(position)),
        article_id=str(article_id),
        title=str(title),
        date=optional_text(date),
        url=optional_text(url),
        source=optional_text(source),
        speaker=optional_text(speaker),
    )


def optional_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def passage_key(article_id: str, position: int) -> int:
    """A number for (article, position) whatever row the passage landed in: ties between
    equal scores are broken by it, so an update ranks them as a full build does."""
    digest = hashlib.blake2b(f"{article_id}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def read_catalogue(select: Callable[[str], Sequence[Sequence[object]]], table: str) -> Catalogue:
    """The catalogue from a generation's articles table, which both backends keep alike:
    `select` runs a statement (no parameters) and returns its rows; `table` is its name there."""
    by_source = select(
        f"SELECT COALESCE(source, 'unknown'), COUNT(*) FROM {table} GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    [(first, last)] = select(f"SELECT MIN(date), MAX(date) FROM {table}")
    newest = select(
        f"SELECT title FROM {table} WHERE date IS NOT NULL ORDER BY date DESC, id LIMIT 1"
    )
    return Catalogue(
        by_source={str(source): int(str(count)) for source, count in by_source},
        first_date=optional_text(first),
        last_date=optional_text(last),
        newest_title=optional_text(newest[0][0]) if newest else None,
    )
