"""Reading a generation of an index directory: vectors and BM25 in memory, texts and
metadata in SQLite.

A reader reads base minus dead plus delta as one index (see segment_files.py); a process
that already holds a base in memory reuses it (`Segment` cache), so loading an update costs
about the size of the delta.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexIncompatibleError, IndexMissingError
from embeddings.index.backend import DenseLexicalScores, LexicalScores, SharedBase
from embeddings.index.directory.checksums import read_manifest, verify
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.directory.segment_files import SEGMENTS
from embeddings.index.directory.shared_base import DirectoryBase
from embeddings.index.directory.vectors import SegmentedIndex, VectorIndex
from embeddings.index.lexical import LexicalIndex, LexicalSegment
from embeddings.index.manifest import Manifest
from embeddings.index.rows import (
    ARTICLE_COLUMNS,
    Catalogue,
    StoredPassage,
    article_from_row,
    passage_key,
    read_catalogue,
    stored_passage,
)
from embeddings.ingest.articles import Article


class Segment:
    """The loaded, immutable parts of one segment. Generations whose segment files are the
    same (by checksum) share one Segment in a process: an update's reload then reads only its
    delta, not the base again."""

    def __init__(
        self, path: Path, manifest: Manifest, first: tuple[int, int], rows: tuple[int, int]
    ) -> None:
        dimension = manifest.dimension
        self.first_passage, self.first_sentence = first
        self.rows = rows
        self.passages = VectorIndex.load(path / "passages.faiss", rows[0], dimension)
        self.sentences = VectorIndex.load(path / "sentences.faiss", rows[1], dimension)
        self.multilingual: tuple[VectorIndex, VectorIndex] | None = None
        translated = manifest.multilingual_dimension
        if manifest.multilingual and translated is not None:
            self.multilingual = (
                VectorIndex.load(path / "multilingual-passages.faiss", rows[0], translated),
                VectorIndex.load(path / "multilingual-sentences.faiss", rows[1], translated),
            )
        self.lexical = LexicalSegment.load(path / "bm25")
        if (self.lexical.passages, self.lexical.sentences) != rows:
            raise IndexIncompatibleError("the BM25 index does not match the passages")
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{path / 'passages.sqlite'}?mode=ro", uri=True)
            ) as db:
                id_ranges = [
                    db.execute(f"SELECT MIN(id), MAX(id), COUNT(*) FROM {name}").fetchone()
                    for name in ("passages", "sentences")
                ]
                self.dead_articles = [str(r[0]) for r in db.execute("SELECT id FROM dead_articles")]
                if (path / "rows.npz").exists():
                    with np.load(path / "rows.npz") as stored:
                        self.passage_keys = stored["passage_keys"]
                        sentence_table = stored["sentence_table"]
                else:  # written before rows.npz was: the same arrays, from SQLite
                    self.passage_keys, sentence_table = _rows_from_sqlite(db, rows[0])
        except sqlite3.Error as error:
            raise IndexIncompatibleError(f"passages.sqlite cannot be read ({error})") from None
        except (OSError, ValueError, KeyError) as error:
            raise IndexIncompatibleError(f"rows.npz cannot be read ({error})") from None
        if self.passage_keys.shape != (rows[0],) or sentence_table.shape != (rows[1], 3):
            raise IndexIncompatibleError("rows.npz does not match the manifest")
        # Row ids are positions in the FAISS files, on from the segment's first row.
        expected = [(start, start + n - 1, n) if n else (None, None, 0)
                    for start, n in zip(first, rows, strict=True)]  # fmt: skip
        if id_ranges != expected:
            raise IndexIncompatibleError("passages.sqlite does not match the manifest")
        self.sentence_passage = sentence_table[:, 0]
        self.sentence_spans = sentence_table[:, 1:]
        passages = np.arange(self.first_passage, self.first_passage + rows[0] + 1)
        bounds = np.searchsorted(self.sentence_passage, passages) + self.first_sentence
        self.passage_sentences = np.stack([bounds[:-1], bounds[1:]], axis=1)


def _rows_from_sqlite(
    db: sqlite3.Connection, passages: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    owners = db.execute("SELECT article_id, position FROM passages ORDER BY id")
    keys = np.fromiter((passage_key(str(a), int(p)) for a, p in owners), np.int64, passages)
    table = db.execute("SELECT passage_id, start, end FROM sentences ORDER BY id")
    return keys, np.array(table.fetchall(), dtype=np.int64).reshape(-1, 3)


_LOADED: weakref.WeakValueDictionary[str, Segment] = weakref.WeakValueDictionary()
_LOADED_LOCK = threading.Lock()


def _segment_key(manifest: Manifest, name: str, first: tuple[int, int]) -> str:
    files = sorted((k, v) for k, v in manifest.checksums.items() if k.startswith(f"{name}/"))
    identity = [manifest.model, manifest.dimension, manifest.multilingual, list(first), files]
    return hashlib.blake2b(json.dumps(identity).encode(), digest_size=16).hexdigest()


def _concatenate(base: Any, delta: Any) -> Any:
    return base if len(delta) == 0 else np.concatenate([base, delta])


class Generation:
    """One loaded generation: vectors and BM25 in memory, texts and metadata in SQLite.

    Row numbers are global: base rows first, then delta rows. Rows of dead articles (base
    articles the delta replaces or that were deleted) stay in the arrays but are left out of
    every search, every BM25 statistic and every SQL view (`articles`, `passages`,
    `sentences` read as one table over both segments)."""

    def __init__(self, path: Path, model: str, dimension: int) -> None:
        self.path = path
        self.name = path.name
        self.manifest = read_manifest(path / "manifest.json")
        self.manifest.check_model(model, dimension)
        sizes = self.manifest.segments
        if set(sizes) != set(SEGMENTS):
            raise IndexIncompatibleError("the index manifest does not list its segments")
        firsts = {"base": (0, 0), "delta": (sizes["base"][0], sizes["base"][1])}
        keys = {name: _segment_key(self.manifest, name, firsts[name]) for name in SEGMENTS}
        with _LOADED_LOCK:
            cached = {name: _LOADED.get(key) for name, key in keys.items()}
        verify(self.manifest, path, skip=[name for name, seg in cached.items() if seg is not None])
        loaded: dict[str, Segment] = {}
        for name in SEGMENTS:
            segment = cached[name]
            if segment is None:
                rows = sizes[name]
                segment = Segment(path / name, self.manifest, firsts[name], (rows[0], rows[1]))
                with _LOADED_LOCK:
                    _LOADED[keys[name]] = segment
            loaded[name] = segment
        self.base, self.delta = loaded["base"], loaded["delta"]
        self._lock = threading.Lock()
        try:
            self._db = self._open_views(path)
            dead = np.array(
                [r[0] for r in self._db.execute(
                    "SELECT id FROM base.passages WHERE article_id IN "
                    "(SELECT id FROM delta.dead_articles) ORDER BY id")],
                dtype=np.int64,
            )  # fmt: skip
        except sqlite3.Error as error:
            raise IndexIncompatibleError(f"passages.sqlite cannot be read ({error})") from None
        # Live counts are the manifest's, not counted here: that reads every base row, and
        # an update's reload must cost the delta's size, not the archive's. Each segment's
        # rows were checked against the manifest when it was loaded.
        bounds = self.base.passage_sentences[dead]
        lengths = bounds[:, 1] - bounds[:, 0]
        dead_sentences = np.repeat(bounds[:, 0], lengths) + (
            np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        self.dead_passages = dead
        segments = (self.base, self.delta)
        self.passages = SegmentedIndex([s.passages for s in segments], dead)
        self.sentences = SegmentedIndex([s.sentences for s in segments], dead_sentences)
        # Passage and sentence vectors of the multilingual model, when the index has them.
        self.multilingual: tuple[SegmentedIndex, SegmentedIndex] | None = None
        if self.base.multilingual is not None and self.delta.multilingual is not None:
            self.multilingual = (
                SegmentedIndex([s.multilingual[0] for s in segments if s.multilingual], dead),
                SegmentedIndex([s.multilingual[1] for s in segments if s.multilingual],
                               dead_sentences),
            )  # fmt: skip
        self.lexical = LexicalIndex([s.lexical for s in segments], dead)
        # In-memory maps the ranker needs for every query, without touching SQLite.
        self.sentence_passage = _concatenate(
            self.base.sentence_passage, self.delta.sentence_passage
        )
        self.sentence_spans = _concatenate(self.base.sentence_spans, self.delta.sentence_spans)
        self.passage_sentences = _concatenate(
            self.base.passage_sentences, self.delta.passage_sentences
        )
        self.passage_keys = _concatenate(self.base.passage_keys, self.delta.passage_keys)

    @staticmethod
    def _open_views(path: Path) -> sqlite3.Connection:
        """One connection reading both segments as one: temporary views named like the
        tables, so every query (the engine's, the bot's) reads live rows only."""
        db = sqlite3.connect("file::memory:", uri=True, check_same_thread=False)
        for name in SEGMENTS:
            db.execute(
                f"ATTACH DATABASE ? AS {name}", [f"file:{path / name / 'passages.sqlite'}?mode=ro"]
            )
        db.executescript(
            """
            CREATE TEMP VIEW articles AS
                SELECT * FROM base.articles WHERE id NOT IN (SELECT id FROM delta.dead_articles)
                UNION ALL SELECT * FROM delta.articles;
            CREATE TEMP VIEW passages AS
                SELECT * FROM base.passages
                WHERE article_id NOT IN (SELECT id FROM delta.dead_articles)
                UNION ALL SELECT * FROM delta.passages;
            CREATE TEMP VIEW sentences AS
                SELECT * FROM base.sentences WHERE passage_id NOT IN (
                    SELECT id FROM base.passages
                    WHERE article_id IN (SELECT id FROM delta.dead_articles))
                UNION ALL SELECT * FROM delta.sentences;
            """
        )
        return db

    def close(self) -> None:
        self._db.close()

    def lexical_scores(self, tokens: Sequence[str]) -> LexicalScores:
        return DenseLexicalScores(self.lexical.scores(tokens))

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """SQLite over this generation's views `articles`, `passages` and `sentences` (live
        rows only) and each segment's tables (`base.passages`, `delta.dead_articles`...)."""
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def passage_rows(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        marks = ",".join("?" * len(ids))
        # Each segment's tables directly (by primary key), not through the views.
        select = (
            "SELECT p.id, p.text, p.position, a.id, a.title, a.date, a.url, a.source, p.speaker "
            "FROM {0}.passages p JOIN {0}.articles a ON a.id = p.article_id "
            f"WHERE p.id IN ({marks})"
        )
        rows = self.query(
            f"{select.format('base')} UNION ALL {select.format('delta')}",
            [int(i) for i in ids] * 2,
        )
        return {int(row[0]): stored_passage(row[1:]) for row in rows}

    def article(self, article_id: str) -> Article | None:
        rows = self.query(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?", [article_id])
        return article_from_row(rows[0]) if rows else None

    def article_paths(self) -> dict[str, str]:
        return {str(a): str(b) for a, b in self.query("SELECT id, path FROM articles")}

    def catalogue(self) -> Catalogue:
        return read_catalogue(self.query, "articles")

    def digests(self) -> tuple[dict[str, int], dict[str, int]]:
        """digest → row for passages and for sentences: what a new build may reuse."""
        passages = {d: i for i, d in self.query("SELECT id, digest FROM passages")}
        sentences = {d: i for i, d in self.query("SELECT id, digest FROM sentences")}
        return passages, sentences

    def article_digests(self) -> dict[str, str]:
        return {str(a): str(b) for a, b in self.query("SELECT id, digest FROM articles")}

    def shared_base(self) -> SharedBase:
        return DirectoryBase(self)

    def files(self) -> dict[str, Any]:
        """The source files this generation was built from (see updates.FileTable)."""
        try:
            data = json.loads((self.path / "files.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexIncompatibleError(f"files.json cannot be read ({error})") from None
        return data if isinstance(data, dict) else {}


def open_current(root: Path, model: str, dimension: int) -> Generation:
    """The generation CURRENT names, checked against the configured model."""
    directory = IndexDirectory(root)
    path = directory.current()
    if path is None:
        raise IndexMissingError(f"no index in {root} yet")
    return Generation(path, model, dimension)
