"""The index on disk: generations, manifest, atomic switch, and the SQLite side of each one.

Layout of an index directory::

    CURRENT                  name of the generation in use (replaced atomically)
    .lock                    held by the one build that may run at a time
    generations/<name>/      manifest.json, files.json (the source files read, with their
                             size and times), and two segments, base/ and delta/, each with
                             passages.sqlite, passages.faiss, sentences.faiss, bm25/, rows.npz
                             (the row maps a reader keeps in memory), and optionally
                             multilingual-passages.faiss, multilingual-sentences.faiss

A build writes a complete new generation beside the old one and only then replaces CURRENT,
so a crash at any point leaves the previous index serving. Readers resolve CURRENT once and
keep their generation; the previous generation is kept so a reader mid-query never loses it.

Segments make small updates cheap. A full build writes every row into base/ and an empty
delta/. An update hard-links the previous generation's base/ files (they are never written
after their generation is complete) and writes only delta/: the articles added or changed
since the base was written, with global row numbers that continue the base's, and the ids of
the base articles they replace or that were deleted (`dead_articles`). A reader reads base
minus dead plus delta as one index; a process that already holds a base in memory reuses it
(`Segment` cache), so loading an update costs about the size of the delta.
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
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexWriteError,
    NewsdeskError,
)
from embeddings.index.backend import DenseLexicalScores, IndexGeneration, LexicalScores
from embeddings.index.directory.vectors import SegmentedIndex, VectorIndex
from embeddings.index.lexical import LexicalIndex, LexicalSegment
from embeddings.ingest.articles import Article
from embeddings.models.multilingual import DIMENSION as MULTILINGUAL_DIMENSION

# 2: the manifest holds a checksum of every other file in the generation.
# 3: base and delta segments, files.json, BM25 as term counts, passages.speaker.
FORMAT_VERSION = 3
SEGMENTS = ("base", "delta")

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
    digest TEXT NOT NULL,       -- of the model input; equal digest, reusable vector
    speaker TEXT                -- who is quoted, when the text leaves it implicit
);
CREATE INDEX passages_by_article ON passages(article_id, position);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY,     -- row in sentences.faiss; a passage's sentences are contiguous
    passage_id INTEGER NOT NULL REFERENCES passages(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    digest TEXT NOT NULL
);
-- Articles of the base segment that this (delta) segment replaces or that were deleted.
CREATE TABLE dead_articles (id TEXT PRIMARY KEY);
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
    # Rows written in each segment, [passages, sentences], dead ones included.
    segments: dict[str, list[int]] = field(default_factory=dict)
    # path → [size, mtime_ns, inode] of each file when its checksum was taken, and when that
    # was: a file still matching its stamp is not read again at load (see `verify`).
    stamps: dict[str, list[int]] = field(default_factory=dict)
    stamped_ns: int = 0

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

    def verify(self, directory: Path, skip: Sequence[str] = ()) -> None:
        """IndexCorruptError unless every file listed is there with the bytes it was written
        with: a truncated or overwritten file must never be loaded and answer wrongly.
        Files under the folders in `skip` are not read (their contents are in memory,
        verified when they were first loaded).

        A file whose size, modification time and inode still equal its stamp is not read
        again: writing to a file, truncating or replacing it changes one of them, and
        re-reading gigabytes of vectors at every start is what made a large archive start
        slowly. As in git's "racily clean" rule, a stamp is trusted only for a file modified
        well before the stamp was taken: within a file system's timestamp granularity a later
        write could leave the modification time unchanged."""
        if not self.checksums:
            raise IndexCorruptError("the index manifest lists no files")
        for name, expected in sorted(self.checksums.items()):
            if any(name.startswith(f"{folder}/") for folder in skip):
                continue
            path = directory / name
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise IndexCorruptError(f"the index manifest names {name!r}, outside the index")
            try:
                if self._stamp_holds(name, path):
                    continue
                actual = file_checksum(path)
            except FileNotFoundError:
                raise IndexCorruptError(f"{name} is missing from the index") from None
            except OSError as error:
                raise IndexCorruptError(f"{name} cannot be read ({error.strerror})") from None
            if actual != expected:
                raise IndexCorruptError(
                    f"{name} is damaged (its checksum does not match the manifest)"
                )

    def _stamp_holds(self, name: str, path: Path) -> bool:
        stamp = self.trusted_stamp(name)
        return stamp is not None and stamp == file_stamp(path)

    def trusted_stamp(self, name: str) -> list[int] | None:
        """The stamp of `name`, if it was taken long enough after the file's last write."""
        stamp = self.stamps.get(name)
        return stamp if stamp is not None and stamp[1] <= self.stamped_ns - RACY_NS else None


# How long before its stamp a file must have been modified for the stamp to be trusted: far
# more than the timestamp granularity of the file systems an index lives on (ext4, XFS,
# btrfs, tmpfs: a clock tick of a few milliseconds).
RACY_NS = 1_000_000_000


def file_stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


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


def write_segment(directory: Path, rows: SegmentRows, dimension: int) -> None:
    directory.mkdir()
    with contextlib.closing(sqlite3.connect(directory / "passages.sqlite")) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (a.id, a.title, a.date, a.url, a.source, a.license, a.path,
                 json.dumps(list(a.paragraphs), ensure_ascii=False), row.digest)
                for row in rows.articles
                for a in [row.article]
            ),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)",
            ((rows.first_passage + i, p.article_id, p.position, p.text, p.digest, p.speaker)
             for i, p in enumerate(rows.passages)),
        )  # fmt: skip
        sentences = (
            (rows.first_passage + i, a, b, d)
            for i, p in enumerate(rows.passages)
            for a, b, d in p.sentences
        )
        db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            ((rows.first_sentence + row, *sentence) for row, sentence in enumerate(sentences)),
        )
        db.executemany("INSERT INTO dead_articles VALUES (?)", ((i,) for i in rows.dead_articles))
        db.commit()
    VectorIndex.from_vectors(rows.passage_vectors, dimension).save(directory / "passages.faiss")
    VectorIndex.from_vectors(rows.sentence_vectors, dimension).save(directory / "sentences.faiss")
    if rows.multilingual is not None:
        for name, vectors in zip(("passages", "sentences"), rows.multilingual, strict=True):
            VectorIndex.from_vectors(vectors, MULTILINGUAL_DIMENSION).save(
                directory / f"multilingual-{name}.faiss"
            )
    (directory / "bm25").mkdir()
    rows.lexical.save(directory / "bm25")
    # What a reader keeps in memory for every question, ready to load without SQLite.
    spans = [(rows.first_passage + i, a, b) for i, p in enumerate(rows.passages)
             for a, b, _ in p.sentences]  # fmt: skip
    keys = (passage_key(p.article_id, p.position) for p in rows.passages)
    np.savez(
        directory / "rows.npz",
        passage_keys=np.fromiter(keys, np.int64, len(rows.passages)),
        sentence_table=np.array(spans, dtype=np.int64).reshape(-1, 3),
    )


def write_generation(
    directory: Path,
    manifest: Manifest,
    base: SegmentRows | Generation,
    delta: SegmentRows,
    files: dict[str, Any],
) -> Manifest:
    """Write every file of a generation; the manifest, with the checksum of each file, goes
    last and marks it complete. `base` is either written, or a generation whose base files
    are hard-linked (with their checksums) instead. Returns the manifest written."""
    linked: dict[str, str] = {}
    # A linked file keeps the stamp of its checksum: a fresh one would vouch for whatever
    # the file holds now, which the old checksum was never compared with.
    carried: dict[str, list[int]] = {}
    if isinstance(base, Generation):
        for name, checksum in base.manifest.checksums.items():
            if name.startswith("base/"):
                target = directory / name
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(base.path / name, target)
                linked[name] = checksum
                stamp = base.manifest.trusted_stamp(name)
                if stamp is not None:
                    carried[name] = stamp
        base_rows = base.manifest.segments["base"]
    else:
        write_segment(directory / "base", base, manifest.dimension)
        base_rows = [len(base.passages), len(base.sentence_vectors)]
    write_segment(directory / "delta", delta, manifest.dimension)
    (directory / "files.json").write_text(json.dumps(files, ensure_ascii=False), "utf-8")
    written = [p for p in directory.rglob("*") if p.relative_to(directory).as_posix() not in linked]
    for path in written:
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for folder in {directory, *(p.parent for p in directory.rglob("*"))}:
        _fsync_dir(folder)  # the new names (links included) must survive a crash too
    names = _files(directory)
    # Stamped before the checksums are taken: a file changed while they are computed no
    # longer matches its stamp, and is read again at load.
    stamped_ns = time.time_ns()
    stamps = {name: file_stamp(directory / name) for name in names if name not in linked}
    sums = {name: file_checksum(directory / name) for name in names if name not in linked}
    manifest = dataclasses.replace(
        manifest,
        checksums={**sums, **linked},
        segments={"base": base_rows, "delta": [len(delta.passages), len(delta.sentence_vectors)]},
        stamps={**stamps, **carried},
        stamped_ns=stamped_ns,
    )
    manifest.write(directory / "manifest.json")
    return manifest


def _files(directory: Path) -> list[str]:
    return [
        path.relative_to(directory).as_posix()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    ]


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links: copying is slower, never wrong
        shutil.copy2(source, target)


# --------------------------------------------------------------------------- reading


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
        if manifest.multilingual:
            self.multilingual = (
                VectorIndex.load(path / "multilingual-passages.faiss", rows[0],
                                 MULTILINGUAL_DIMENSION),
                VectorIndex.load(path / "multilingual-sentences.faiss", rows[1],
                                 MULTILINGUAL_DIMENSION),
            )  # fmt: skip
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


def passage_key(article_id: str, position: int) -> int:
    """A number for (article, position) whatever row the passage landed in: ties between
    equal scores are broken by it, so an update ranks them as a full build does."""
    digest = hashlib.blake2b(f"{article_id}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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
        self.manifest = Manifest.read(path / "manifest.json")
        if self.manifest.model != model or self.manifest.dimension != dimension:
            raise IndexIncompatibleError(
                f"the index was built with {self.manifest.model} ({self.manifest.dimension}d) "
                f"but the configured model is {model} ({dimension}d)"
            )
        sizes = self.manifest.segments
        if set(sizes) != set(SEGMENTS):
            raise IndexIncompatibleError("the index manifest does not list its segments")
        firsts = {"base": (0, 0), "delta": (sizes["base"][0], sizes["base"][1])}
        keys = {name: _segment_key(self.manifest, name, firsts[name]) for name in SEGMENTS}
        with _LOADED_LOCK:
            cached = {name: _LOADED.get(key) for name, key in keys.items()}
        self.manifest.verify(path, skip=[name for name, seg in cached.items() if seg is not None])
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
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def passage_rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        """id → (text, position, article id, title, date, url, source, speaker) for the given
        passages."""
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
        return {row[0]: row[1:] for row in rows}

    def digests(self) -> tuple[dict[str, int], dict[str, int]]:
        """digest → row for passages and for sentences: what a new build may reuse."""
        passages = {d: i for i, d in self.query("SELECT id, digest FROM passages")}
        sentences = {d: i for i, d in self.query("SELECT id, digest FROM sentences")}
        return passages, sentences

    def article_digests(self) -> dict[str, str]:
        return {str(a): str(b) for a, b in self.query("SELECT id, digest FROM articles")}

    def files(self) -> dict[str, Any]:
        """The source files this generation was built from (see indexer.FileEntry)."""
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
        base: SegmentRows | IndexGeneration,
        delta: SegmentRows,
        files: dict[str, Any],
        switching: Callable[[], None],
    ) -> Manifest:
        if not isinstance(base, SegmentRows | Generation):
            raise TypeError("a directory's generation can only link the base of another one")
        serving = self.directory.current()
        with _writing(self.root):
            target = self.directory.new_generation()
        try:
            with _writing(self.root):
                manifest = write_generation(target, manifest, base, delta, files)
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
