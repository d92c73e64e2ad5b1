"""The index on disk: generations, manifest, atomic switch, and the SQLite side of each one.

Layout of an index directory::

    CURRENT                  name of the generation in use (replaced atomically)
    .lock                    held by the one build that may run at a time
    generations/<name>/      manifest.json, passages.sqlite, passages.faiss,
                             sentences.faiss, bm25/, and optionally
                             multilingual-passages.faiss, multilingual-sentences.faiss

A build writes a complete new generation beside the old one and only then replaces CURRENT,
so a crash at any point leaves the previous index serving. Readers resolve CURRENT once and
keep their generation; the previous generation is kept so a reader mid-query never loses it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.articles import Article
from embeddings.backend import DenseLexicalScores, LexicalScores, Matrix
from embeddings.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexWriteError,
    NewsdeskError,
)
from embeddings.lexical import LexicalIndex
from embeddings.multilingual import DIMENSION as MULTILINGUAL_DIMENSION
from embeddings.vectors import VectorIndex

# 2: the manifest holds a checksum of every other file in the generation.
FORMAT_VERSION = 2

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    url TEXT,
    source TEXT,
    license TEXT,
    path TEXT NOT NULL,
    paragraphs TEXT NOT NULL,   -- JSON list: the full article, for "read the whole thing"
    digest TEXT NOT NULL        -- over its passages' digests: tells changed from unchanged
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,     -- row in passages.faiss
    article_id TEXT NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    digest TEXT NOT NULL        -- of the model input; equal digest, reusable vector
);
CREATE INDEX passages_by_article ON passages(article_id, position);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY,     -- row in sentences.faiss; a passage's sentences are contiguous
    passage_id INTEGER NOT NULL REFERENCES passages(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    digest TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    count: int  # passages
    sentences: int
    articles: int
    created: str
    sources: list[str]
    checksums: dict[str, str]  # path inside the generation → blake2b of its bytes
    # The model behind the multilingual-*.faiss files, or None when the index has none.
    multilingual: str | None = None

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexIncompatibleError(f"the index manifest cannot be read ({error})") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            found = data.get("format_version") if isinstance(data, dict) else None
            raise IndexIncompatibleError(
                f"the index is format {found!r}; this newsdesk reads format {FORMAT_VERSION}"
            )
        try:
            return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        except (KeyError, TypeError) as error:
            raise IndexIncompatibleError(f"the index manifest lacks {error}") from None

    def write(self, path: Path) -> None:
        _write_atomically(path, json.dumps(asdict(self), indent=2) + "\n")

    def verify(self, directory: Path) -> None:
        """IndexCorruptError unless every file listed is there with the bytes it was written
        with: a truncated or overwritten file must never be loaded and answer wrongly."""
        if not self.checksums:
            raise IndexCorruptError("the index manifest lists no files")
        for name, expected in sorted(self.checksums.items()):
            path = directory / name
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise IndexCorruptError(f"the index manifest names {name!r}, outside the index")
            try:
                actual = file_checksum(path)
            except FileNotFoundError:
                raise IndexCorruptError(f"{name} is missing from the index") from None
            except OSError as error:
                raise IndexCorruptError(f"{name} cannot be read ({error.strerror})") from None
            if actual != expected:
                raise IndexCorruptError(
                    f"{name} is damaged (its checksum does not match the manifest)"
                )


def file_checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=32)
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def checksums(directory: Path) -> dict[str, str]:
    """Checksum of every file under `directory` but the manifest, by relative path."""
    return {
        path.relative_to(directory).as_posix(): file_checksum(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexDirectory:
    """Generations inside one index directory and the pointer to the current one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generations = root / "generations"
        self._pointer = root / "CURRENT"

    def current(self) -> Path | None:
        try:
            name = self._pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.generations / name
        return path if name and path.is_dir() else None

    def current_token(self) -> tuple[int, int] | None:
        """Changes whenever CURRENT is replaced: cheap enough to check before every query."""
        try:
            stat = self._pointer.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def new_generation(self) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.generations / f"{stamp}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def switch(self, generation: Path) -> None:
        """Make `generation` current in one atomic rename."""
        if not (generation / "manifest.json").is_file():
            raise IndexIncompatibleError(f"refusing to switch to incomplete {generation.name}")
        _write_atomically(self._pointer, generation.name + "\n")

    def clean_orphans(self) -> list[str]:
        """Delete what a crashed build left behind, unless a build is running now (what
        looks orphaned may be its generation). Returns the generation names removed."""
        if not self.root.is_dir():
            return []
        try:
            with self.build_lock():
                return self.remove_orphans()
        except IndexBusyError:
            return []
        except OSError:
            return []  # a read-only index directory can still be served; nothing to clean

    def remove_orphans(self) -> list[str]:
        """Under the build lock: delete every generation CURRENT does not name that is
        incomplete (no manifest) or newer than the current one (written, never switched to),
        and stray temporary pointers. The older complete generation is the previous index,
        which a reader may still be using, so it stays."""
        current = self.current()
        for temporary in self.root.glob(".CURRENT.*.tmp"):
            temporary.unlink(missing_ok=True)
        removed: list[str] = []
        if not self.generations.is_dir():
            return removed
        for path in sorted(self.generations.iterdir()):
            if path == current:
                continue
            complete = (path / "manifest.json").is_file()
            if not complete or current is None or path.name > current.name:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def prune(self, keep: Iterable[Path | None]) -> None:
        """Delete every generation but those in `keep` (leftovers of crashed builds too)."""
        kept = {path for path in keep if path is not None}
        if self.generations.is_dir():
            for path in self.generations.iterdir():
                if path not in kept:
                    shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    "another build of this index is running; try again when it ends"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- writing


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


def write_generation(
    directory: Path,
    manifest: Manifest,
    articles: Sequence[ArticleRow],
    passages: Sequence[PassageRow],
    passage_vectors: npt.NDArray[np.float32],
    sentence_vectors: npt.NDArray[np.float32],
    lexical: LexicalIndex,
    multilingual: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None,
) -> Manifest:
    """Write every file of a generation; the manifest, with the checksum of each file read
    back from disk, goes last and marks it complete. Returns the manifest written."""
    with contextlib.closing(sqlite3.connect(directory / "passages.sqlite")) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (a.id, a.title, a.date, a.url, a.source, a.license, a.path,
                 json.dumps(list(a.paragraphs), ensure_ascii=False), row.digest)
                for row in articles
                for a in [row.article]
            ),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?)",
            ((i, p.article_id, p.position, p.text, p.digest) for i, p in enumerate(passages)),
        )
        sentences = ((i, a, b, d) for i, p in enumerate(passages) for a, b, d in p.sentences)
        db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            ((row, *sentence) for row, sentence in enumerate(sentences)),
        )
        db.commit()
    VectorIndex.from_vectors(passage_vectors, manifest.dimension).save(directory / "passages.faiss")
    VectorIndex.from_vectors(sentence_vectors, manifest.dimension).save(
        directory / "sentences.faiss"
    )
    if multilingual is not None:
        for name, vectors in zip(("passages", "sentences"), multilingual, strict=True):
            VectorIndex.from_vectors(vectors, MULTILINGUAL_DIMENSION).save(
                directory / f"multilingual-{name}.faiss"
            )
    (directory / "bm25").mkdir()
    lexical.save(directory / "bm25")
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    manifest = dataclasses.replace(manifest, checksums=checksums(directory))
    manifest.write(directory / "manifest.json")
    return manifest


# --------------------------------------------------------------------------- reading


class Generation:
    """One loaded generation: vectors and BM25 in memory, texts and metadata in SQLite."""

    def __init__(self, path: Path, model: str, dimension: int) -> None:
        self.path = path
        self.name = path.name
        self.manifest = Manifest.read(path / "manifest.json")
        if self.manifest.model != model or self.manifest.dimension != dimension:
            raise IndexIncompatibleError(
                f"the index was built with {self.manifest.model} ({self.manifest.dimension}d) "
                f"but the configured model is {model} ({dimension}d)"
            )
        self.manifest.verify(path)
        self.passages = VectorIndex.load(path / "passages.faiss", self.manifest.count, dimension)
        self.sentences = VectorIndex.load(
            path / "sentences.faiss", self.manifest.sentences, dimension
        )
        # Passage and sentence vectors of the multilingual model, when the index has them.
        self.multilingual: tuple[VectorIndex, VectorIndex] | None = None
        if self.manifest.multilingual:
            self.multilingual = (
                VectorIndex.load(path / "multilingual-passages.faiss", self.manifest.count,
                                 MULTILINGUAL_DIMENSION),
                VectorIndex.load(path / "multilingual-sentences.faiss", self.manifest.sentences,
                                 MULTILINGUAL_DIMENSION),
            )  # fmt: skip
        self.lexical = LexicalIndex.load(path / "bm25")
        if (self.lexical.size, self.lexical.sentences) != (
            self.manifest.count,
            self.manifest.sentences,
        ):
            raise IndexIncompatibleError("the BM25 index does not match the passages")
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                f"file:{path / 'passages.sqlite'}?mode=ro", uri=True, check_same_thread=False
            )
            rows = self._db.execute("SELECT passage_id, start, end FROM sentences ORDER BY id")
            sentence_table = np.array(rows.fetchall(), dtype=np.int64).reshape(-1, 3)
            articles = self._db.execute(
                "SELECT p.id, a.rowid FROM passages p JOIN articles a ON a.id = p.article_id "
                "ORDER BY p.id"
            ).fetchall()
            id_ranges = [
                self._db.execute(f"SELECT MIN(id), MAX(id), COUNT(*) FROM {table}").fetchone()
                for table in ("passages", "sentences")
            ]
        except sqlite3.Error as error:
            raise IndexIncompatibleError(f"passages.sqlite cannot be read ({error})") from None
        # Row ids are positions in the FAISS files: they must run 0..n-1 with no gaps.
        expected = [(0, n - 1, n) if n else (None, None, 0)
                    for n in (self.manifest.count, self.manifest.sentences)]  # fmt: skip
        if id_ranges != expected or len(articles) != self.manifest.count:
            raise IndexIncompatibleError("passages.sqlite does not match the manifest")
        # In-memory maps the ranker needs for every query, without touching SQLite.
        self.sentence_passage = sentence_table[:, 0]
        self.sentence_spans = sentence_table[:, 1:]
        self.passage_article = np.array([row[1] for row in articles], dtype=np.int64)
        bounds = np.searchsorted(self.sentence_passage, np.arange(self.manifest.count + 1))
        self.passage_sentences = np.stack([bounds[:-1], bounds[1:]], axis=1)

    def close(self) -> None:
        self._db.close()

    def lexical_scores(self, tokens: Sequence[str]) -> LexicalScores:
        return DenseLexicalScores(self.lexical.scores(tokens))

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def passage_rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """id → (text, position, article id, title, date, url, source) for the given passages."""
        marks = ",".join("?" * len(ids))
        rows = self.query(
            "SELECT p.id, p.text, p.position, a.id, a.title, a.date, a.url, a.source "
            f"FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({marks})",
            [int(i) for i in ids],
        )
        return {row[0]: row[1:] for row in rows}

    def digests(self) -> tuple[dict[str, int], dict[str, int]]:
        """digest → row for passages and for sentences: what a new build may reuse."""
        passages = {d: i for i, d in self.query("SELECT id, digest FROM passages")}
        sentences = {d: i for i, d in self.query("SELECT id, digest FROM sentences")}
        return passages, sentences

    def article_digests(self) -> dict[str, str]:
        return {str(a): str(b) for a, b in self.query("SELECT id, digest FROM articles")}


def open_current(root: Path, model: str, dimension: int) -> Generation:
    """The generation CURRENT names, checked against the configured model."""
    directory = IndexDirectory(root)
    path = directory.current()
    if path is None:
        raise IndexMissingError(f"no index in {root} yet")
    return Generation(path, model, dimension)


# --------------------------------------------------------------------------- the store


@contextlib.contextmanager
def _writing(root: Path) -> Iterator[None]:
    """Turn a failure to write the index (disk full, read-only folder, file size limit) into
    one clear error; the generation being written is discarded and the old one serves on."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise IndexWriteError(f"cannot write the index in {root}: {reason}") from None
    except RuntimeError as error:  # FAISS reports failed writes as RuntimeError
        reason = str(error).strip().splitlines()[-1][:160]
        raise IndexWriteError(f"cannot write the index in {root}: {reason}") from None


class DirectoryStore:
    """The embedded backend: generations of FAISS files, SQLite and BM25 in one directory
    (`IndexStore` for the indexer and the engine)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = IndexDirectory(root)

    def describe(self) -> str:
        return f"the index in {self.root}"

    def token(self) -> tuple[int, int] | None:
        return self.directory.current_token()

    def has_index(self) -> bool:
        return self.directory.current() is not None

    def open_current(self, model: str, dimension: int) -> Generation:
        path = self.directory.current()
        if path is None:
            raise IndexMissingError(f"no index in {self.root} yet")
        return Generation(path, model, dimension)

    def clean_orphans(self) -> None:
        self.directory.clean_orphans()

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            with _writing(self.root):  # a read-only folder fails here, before any work
                stack.enter_context(self.directory.build_lock())
            yield

    def remove_orphans(self) -> None:
        with _writing(self.root):
            self.directory.remove_orphans()

    def previous(self, model: str, dimension: int) -> Generation | None:
        """The serving generation if its vectors can be reused; a damaged one is rebuilt."""
        path = self.directory.current()
        if path is None:
            return None
        try:
            return Generation(path, model, dimension)
        except NewsdeskError:
            return None

    def publish(
        self,
        manifest: Manifest,
        articles: Sequence[ArticleRow],
        passages: Sequence[PassageRow],
        vectors: tuple[Matrix, Matrix],
        lexical: LexicalIndex,
        multilingual: tuple[Matrix, Matrix] | None,
        switching: Callable[[], None],
    ) -> Manifest:
        serving = self.directory.current()
        with _writing(self.root):
            target = self.directory.new_generation()
        try:
            with _writing(self.root):
                manifest = write_generation(
                    target, manifest, articles, passages, *vectors, lexical, multilingual
                )
            switching()
            with _writing(self.root):
                self.directory.switch(target)
        except Exception:
            # Disk full, no permission: CURRENT still names the old generation, and the
            # half-written new one must not fill the disk further.
            if self.directory.current() != target:
                shutil.rmtree(target, ignore_errors=True)
            raise
        # Keep the generation that was serving until now: a reader may still be using it.
        self.directory.prune(keep=[target, serving])
        return manifest
