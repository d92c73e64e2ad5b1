"""PostgreSQL + pgvector as a second index backend, shared by every replica. The only module
that imports psycopg.

Layout, inside one database (`namespace` defaults to ``newsdesk``)::

    <ns>.meta                key/value; schema_version
    <ns>.generations         id, manifest (jsonb), details (jsonb: which vector sets have HNSW)
    <ns>.current             one row: the generation every replica serves
    <ns>_g<id>.articles      one schema per generation: articles, passages, sentences (with
    <ns>_g<id>.passages      their pgvector columns and the passages' tsvector), and files
    <ns>_g<id>.sentences     (the BM25 arrays and the sentence map, as bytea)
    <ns>_g<id>.files

A build writes the whole new generation, and points `current` at it, in ONE transaction
(PostgreSQL's DDL is transactional): a failed or killed build leaves nothing behind and the
old generation serving. Replicas compare `current` with the generation they hold before every
question (one indexed single-row read) and load the new one when it has changed; the switch
also sends NOTIFY on `newsdesk_generation` for anything else that wants to listen. Builds take
a session advisory lock, so two replicas asked to reindex at once run one build and tell the
other; the lock goes with the connection if the builder dies.

Vectors are searched in the database (exact below `HNSW_FROM` rows, an HNSW index from there,
like the FAISS backend), and the candidates' vectors are fetched and scored by the ranker in
process, so both backends share every line of the fusion and answer-sentence logic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import queue
import re
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

from embeddings.errors import (
    DatabaseError,
    IndexBusyError,
    IndexIncompatibleError,
    IndexMissingError,
    MissingDependencyError,
    NewsdeskError,
)
from embeddings.index.backend import DenseLexicalScores, Ids, IndexGeneration, LexicalScores, Matrix
from embeddings.index.directory.store import (
    FORMAT_VERSION,
    ArticleRow,
    Manifest,
    PassageRow,
    SegmentRows,
    passage_key,
)
from embeddings.index.directory.vectors import APPROXIMATE_FROM
from embeddings.index.lexical import LexicalIndex
from embeddings.models.multilingual import DIMENSION as MULTILINGUAL_DIMENSION

try:
    import psycopg
    from psycopg import sql
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
except ImportError as _error:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        f"the PostgreSQL backend needs psycopg ({_error}); pip install 'newsdesk[postgres]'"
    ) from None

SCHEMA_VERSION = 1
NOTIFY_CHANNEL = "newsdesk_generation"
# pgvector's ceiling for hnsw.ef_search.
HNSW_SEARCH_DEPTH = 1000
# An HNSW index from the size where FAISS stops searching exactly too; below it an exact scan
# is fast and exact. Graph settings as measured in README "Scaling out".
HNSW_FROM = APPROXIMATE_FROM
HNSW_LINKS = 32
HNSW_BUILD_DEPTH = 200
Lexical = Literal["bm25", "fts"]
_NAMESPACE = re.compile(r"[a-z_][a-z0-9_]{0,40}")


def redact(url: str) -> str:
    """The URL without its password (URLs and key=value connection strings)."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            netloc = f"{parts.username or ''}:***@{host}"
            parts = parts._replace(netloc=netloc)
        return re.sub(r"(?i)(password=)[^&]*", r"\1***", urlunsplit(parts))
    return re.sub(r"(?i)(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)


# --------------------------------------------------------------------------- vectors on the wire


class _VectorDumper(Dumper):
    """numpy float32 vector → pgvector's binary form (int16 dim, int16 0, big-endian float4)."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        vector = np.asarray(obj, dtype=">f4").ravel()
        return struct.pack(">HH", len(vector), 0) + vector.tobytes()


class _VectorLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> npt.NDArray[np.float32]:
        return np.frombuffer(bytes(data), dtype=">f4", offset=4).astype(np.float32)


class _Pool:
    """A few autocommit connections shared by threads (questions run in worker threads)."""

    def __init__(self, url: str, size: int = 8) -> None:
        self._url = url
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self.vector_oid: int | None = None

    def connect(self, autocommit: bool = True) -> psycopg.Connection[Any]:
        try:
            connection = psycopg.connect(self._url, autocommit=autocommit, connect_timeout=10)
        except psycopg.Error as error:
            raise DatabaseError(
                f"cannot connect to {redact(self._url)}: {_reason(error)}"
            ) from None
        self._adapt(connection)
        return connection

    def _adapt(self, connection: psycopg.Connection[Any]) -> None:
        if self.vector_oid is None:
            row = connection.execute(
                "SELECT oid FROM pg_type WHERE typname = 'vector' ORDER BY oid LIMIT 1"
            ).fetchone()
            if row is None:
                return  # CREATE EXTENSION vector comes with the schema; adapt after it
            self.vector_oid = int(row[0])
        dumper = type("VectorDumper", (_VectorDumper,), {"oid": self.vector_oid})
        connection.adapters.register_dumper(np.ndarray, dumper)
        connection.adapters.register_loader(self.vector_oid, _VectorLoader)
        connection.execute(f"SET hnsw.ef_search = {HNSW_SEARCH_DEPTH}")

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._slots:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                connection = self.connect()
            try:
                yield connection
            except BaseException:
                connection.close()  # its state is unknown (broken, mid-transaction)
                raise
            if not connection.closed:
                self._idle.put(connection)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1][:200] if text else type(error).__name__


@contextlib.contextmanager
def _database(what: str) -> Iterator[None]:
    """psycopg's errors become one clear NewsdeskError."""
    try:
        yield
    except psycopg.Error as error:
        raise DatabaseError(f"{what}: {_reason(error)}") from None


# --------------------------------------------------------------------------- reading


class PgVectors:
    """One vector column of one generation (`VectorSpace`)."""

    def __init__(
        self,
        pool: _Pool,
        schema: str,
        table: str,
        column: str,
        shape: tuple[int, int],  # rows, dimension
        hnsw: bool,
    ) -> None:
        self._pool = pool
        self._count, self._dimension = shape
        self.kind = "hnsw" if hnsw else "flat"
        name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        col = sql.Identifier(column)
        # With an HNSW index the ORDER BY must be the bare distance for the index to be used;
        # an exact scan breaks ties by row, as FAISS's flat index does.
        tie = sql.SQL("") if hnsw else sql.SQL(", id")
        self._search = sql.SQL(
            "SELECT id, ({col} <#> %b) * -1 FROM {name} ORDER BY {col} <#> %b{tie} LIMIT %s"
        ).format(col=col, name=name, tie=tie)
        self._rows = sql.SQL("SELECT id, {col} FROM {name} WHERE id = ANY(%s)").format(
            col=col, name=name
        )
        self._all = sql.SQL("SELECT {col} FROM {name} ORDER BY id").format(col=col, name=name)

    def __len__(self) -> int:
        return self._count

    def search(self, query: Matrix, k: int) -> tuple[Matrix, Ids]:
        k = min(k, self._count)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        vector = np.asarray(query, dtype=np.float32).ravel()
        with (
            self._pool.connection() as db,
            _database("vector search failed"),
            db.transaction(),
        ):
            if self.kind == "hnsw":
                # The planner prices an HNSW scan at ef_search 1000 above a sequential scan
                # and sort, up to tens of thousands of rows (measured: both took 67 ms a
                # question at 30,000 sentences); the index is what makes size affordable.
                db.execute("SET LOCAL enable_seqscan = off")
            rows = db.execute(self._search, (vector, vector, k), binary=True).fetchall()
        return (
            np.array([r[1] for r in rows], dtype=np.float32),
            np.array([r[0] for r in rows], dtype=np.int64),
        )

    def rows(self, ids: Ids) -> Matrix:
        wanted = [int(i) for i in ids]
        if not wanted:
            return np.zeros((0, self._dimension), np.float32)
        with self._pool.connection() as db, _database("reading vectors failed"):
            found = dict(db.execute(self._rows, (wanted,), binary=True).fetchall())
        return np.stack([found[i] for i in wanted])

    def all(self) -> Matrix:
        with self._pool.connection() as db, _database("reading vectors failed"):
            rows = db.execute(self._all, binary=True).fetchall()
        if not rows:
            return np.zeros((0, self._dimension), np.float32)
        return np.stack([r[0] for r in rows])


class FtsScores:
    """PostgreSQL full-text search as the lexical signal (`LexicalScores`): ts_rank over the
    passages' tsvector (English configuration) for an OR of the question's stemmed terms."""

    def __init__(self, pool: _Pool, schema: str, tokens: Sequence[str]) -> None:
        self._pool = pool
        terms = sorted({t for t in tokens if re.fullmatch(r"\w+", t)})
        self._query = " | ".join(f"'{t}'" for t in terms)
        table = sql.SQL("{}.passages").format(sql.Identifier(schema))
        rank = sql.SQL("ts_rank(tsv, to_tsquery('simple', %s), 1)")
        self._top = sql.SQL(
            "SELECT id, {rank} FROM {table} WHERE tsv @@ to_tsquery('simple', %s) "
            "ORDER BY 2 DESC, id LIMIT %s"
        ).format(rank=rank, table=table)
        self._at = sql.SQL(
            "SELECT id, {rank} FROM {table} WHERE id = ANY(%s) AND tsv @@ to_tsquery('simple', %s)"
        ).format(rank=rank, table=table)

    def top(self, k: int) -> Ids:
        if not self._query:
            return np.zeros(0, np.int64)
        with self._pool.connection() as db, _database("full-text search failed"):
            rows = db.execute(self._top, (self._query, self._query, k)).fetchall()
        return np.array([r[0] for r in rows if r[1] > 0], dtype=np.int64)

    def at(self, rows: Ids) -> npt.NDArray[np.float32]:
        out = np.zeros(len(rows), np.float32)
        if not self._query or len(rows) == 0:
            return out
        with self._pool.connection() as db, _database("full-text search failed"):
            found = dict(
                db.execute(self._at, (self._query, [int(r) for r in rows], self._query)).fetchall()
            )
        for i, row in enumerate(rows):
            out[i] = found.get(int(row), 0.0)
        return out


class PgGeneration:
    """One generation in the database (`IndexGeneration`). Vectors stay in the database; the
    BM25 arrays and the sentence map (a few bytes per passage and sentence) are loaded."""

    def __init__(
        self,
        pool: _Pool,
        namespace: str,
        generation: int,
        manifest: Manifest,
        details: dict[str, Any],
        lexical: Lexical,
    ) -> None:
        self._pool = pool
        self.id = generation
        self.name = f"{namespace}_g{generation}"
        self.schema = self.name
        self.manifest = manifest
        self._lexical_mode: Lexical = lexical
        hnsw = set(details.get("hnsw", []))

        def space(table: str, column: str, count: int, dimension: int) -> PgVectors:
            indexed = f"{table}.{column}" in hnsw
            return PgVectors(pool, self.schema, table, column, (count, dimension), indexed)

        dimension = manifest.dimension
        self.passages = space("passages", "embedding", manifest.count, dimension)
        self.sentences = space("sentences", "embedding", manifest.sentences, dimension)
        self.multilingual: tuple[PgVectors, PgVectors] | None = None
        if manifest.multilingual:
            self.multilingual = (
                space("passages", "ml_embedding", manifest.count, MULTILINGUAL_DIMENSION),
                space("sentences", "ml_embedding", manifest.sentences, MULTILINGUAL_DIMENSION),
            )
        files = {
            str(name): bytes(data)
            for name, data in self._select("SELECT name, data FROM {}.files", ())
        }
        with tempfile.TemporaryDirectory(prefix="newsdesk-bm25-") as scratch:
            for name, data in files.items():
                if name.startswith("bm25/"):
                    (Path(scratch) / name.removeprefix("bm25/")).write_bytes(data)
            self.lexical = LexicalIndex.load(Path(scratch))
        try:
            table = np.load(io.BytesIO(files["sentences.npy"]))
        except (KeyError, ValueError) as error:
            raise IndexIncompatibleError(f"the sentence map is damaged ({error})") from None
        if (self.lexical.size, self.lexical.sentences, len(table)) != (
            manifest.count,
            manifest.sentences,
            manifest.sentences,
        ):
            raise IndexIncompatibleError("the BM25 index does not match the passages")
        self.sentence_passage: Ids = table[:, 0]
        self.sentence_spans: Ids = table[:, 1:]
        bounds = np.searchsorted(self.sentence_passage, np.arange(manifest.count + 1))
        self.passage_sentences: Ids = np.stack([bounds[:-1], bounds[1:]], axis=1)
        owners = self._select("SELECT article_id, position FROM {}.passages ORDER BY id", ())
        self.passage_keys: Ids = np.fromiter(
            (passage_key(str(a), int(position)) for a, position in owners), np.int64, len(owners)
        )

    def _select(self, template: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        query = sql.SQL(template).format(sql.Identifier(self.schema))
        with self._pool.connection() as db, _database("reading the index failed"):
            return db.execute(query, parameters).fetchall()

    def lexical_scores(self, tokens: Sequence[str]) -> LexicalScores:
        if self._lexical_mode == "fts":
            return FtsScores(self._pool, self.schema, tokens)
        return DenseLexicalScores(self.lexical.scores(tokens))

    def passage_rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        rows = self._select(
            "SELECT p.id, p.text, p.position, a.id, a.title, a.date, a.url, a.source, p.speaker "
            "FROM {0}.passages p JOIN {0}.articles a ON a.id = p.article_id WHERE p.id = ANY(%s)",
            ([int(i) for i in ids],),
        )
        return {int(row[0]): row[1:] for row in rows}

    def query(self, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Portable SQL with `?` placeholders, run with this generation's schema on the path."""
        text = statement.replace("%", "%%").replace("?", "%s")
        path = sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(self.schema))
        with (
            self._pool.connection() as db,
            _database("reading the index failed"),
            db.transaction(),
        ):
            db.execute(path)
            return db.execute(text.encode(), parameters).fetchall()

    def digests(self) -> tuple[dict[str, int], dict[str, int]]:
        passages = {
            str(d): int(i) for i, d in self._select("SELECT id, digest FROM {}.passages", ())
        }
        sentences = {
            str(d): int(i) for i, d in self._select("SELECT id, digest FROM {}.sentences", ())
        }
        return passages, sentences

    def article_digests(self) -> dict[str, str]:
        return {str(a): str(b) for a, b in self._select("SELECT id, digest FROM {}.articles", ())}

    def disk_bytes(self) -> int:
        with self._pool.connection() as db, _database("reading the index size failed"):
            row = db.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (self.schema,),
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Nothing to release: connections belong to the store's pool."""


# --------------------------------------------------------------------------- the store

_META = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA {ns};
CREATE TABLE {ns}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE {ns}.generation_ids;
CREATE TABLE {ns}.generations (
    id bigint PRIMARY KEY,
    manifest jsonb NOT NULL,
    details jsonb NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {ns}.current (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint REFERENCES {ns}.generations (id)
);
INSERT INTO {ns}.current (generation) VALUES (NULL);
"""

_GENERATION = """
CREATE SCHEMA {g};
CREATE TABLE {g}.articles (
    id text PRIMARY KEY, title text NOT NULL, date text, url text, source text, license text,
    path text NOT NULL,
    paragraphs text NOT NULL,   -- JSON list: the full article
    digest text NOT NULL
);
CREATE TABLE {g}.passages (
    id integer PRIMARY KEY,     -- row number, as in the FAISS backend
    article_id text NOT NULL,
    position integer NOT NULL,
    text text NOT NULL,
    digest text NOT NULL,
    lexical text NOT NULL,      -- title and passage: what full-text search reads
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', lexical)) STORED,
    embedding vector({d}) NOT NULL,
    ml_embedding vector({md})
);
CREATE TABLE {g}.sentences (
    id integer PRIMARY KEY,     -- a passage's sentences are contiguous rows
    passage_id integer NOT NULL,
    article_id text NOT NULL,   -- the distribution column under Citus (README, Scaling out)
    start integer NOT NULL,
    "end" integer NOT NULL,
    digest text NOT NULL,
    embedding vector({d}) NOT NULL,
    ml_embedding vector({md})
);
CREATE TABLE {g}.files (name text PRIMARY KEY, data bytea NOT NULL);
"""


def _lock_key(namespace: str) -> int:
    digest = hashlib.blake2b(f"newsdesk:{namespace}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresStore:
    """The index in PostgreSQL (`IndexStore`), shared by every process that opens it."""

    def __init__(
        self,
        url: str,
        namespace: str = "newsdesk",
        lexical: Lexical = "bm25",
        hnsw_from: int = HNSW_FROM,
    ) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise NewsdeskError(f"{namespace!r} is not a usable schema name (a-z, 0-9, _)")
        self.namespace = namespace
        self.lexical: Lexical = lexical
        self.hnsw_from = hnsw_from
        self._url = url
        self._pool = _Pool(url)
        self._ns = sql.Identifier(namespace)
        self._checked = False  # the schema version was found right once

    def describe(self) -> str:
        return f"the index in {redact(self._url)} (schema {self.namespace})"

    def close(self) -> None:
        self._pool.close()

    # ---------------------------------------------------------------- schema

    def _version(self, db: psycopg.Connection[Any]) -> int | None:
        """The schema version in the database; None when it holds no newsdesk schema."""
        exists = db.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"{self.namespace}.meta",)
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = db.execute(
            sql.SQL("SELECT value FROM {}.meta WHERE key = 'schema_version'").format(self._ns)
        ).fetchone()
        return int(row[0]) if row and str(row[0]).isdigit() else -1

    def _check(self, db: psycopg.Connection[Any]) -> bool:
        """True when the schema exists at this version, False when there is none; a schema of
        another version is a clear error naming the migration step."""
        found = self._version(db)
        if found is None:
            return False
        if found != SCHEMA_VERSION:
            raise IndexIncompatibleError(
                f"the database holds newsdesk schema version {found} in schema "
                f"{self.namespace}, this newsdesk uses version {SCHEMA_VERSION}. The index is "
                "derived from the articles: migrate with `newsdesk index --migrate`, which "
                "drops the old tables and rebuilds them from the data folder"
            )
        return True

    def _create(self, db: psycopg.Connection[Any]) -> None:
        with db.transaction():
            db.execute(sql.SQL(_META).format(ns=self._ns))
            db.execute(
                sql.SQL("INSERT INTO {}.meta VALUES ('schema_version', %s)").format(self._ns),
                (str(SCHEMA_VERSION),),
            )
        self._pool.vector_oid = None  # the extension may be new: look its type up again
        self._pool.close()

    def migrate(self) -> None:
        """Drop this namespace's schema and generations (the index is derived data), so the
        next build creates the current schema. Takes the build lock."""
        self._checked = False
        with self.build_lock(create=False), self._pool.connection() as db, db.transaction():
            for schema in [*self._generation_schemas(db), self.namespace]:
                db.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )

    def _generation_schemas(self, db: psycopg.Connection[Any]) -> list[str]:
        pattern = self.namespace.replace("_", r"\_") + r"\_g%"
        rows = db.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", (pattern,)
        ).fetchall()
        return [str(r[0]) for r in rows if re.fullmatch(rf"{self.namespace}_g\d+", str(r[0]))]

    # ---------------------------------------------------------------- reading

    def _current(self) -> tuple[int, dict[str, Any], dict[str, Any]] | None:
        with self._pool.connection() as db, _database(f"cannot read {self.describe()}"):
            if not self._check(db):
                return None
            row = db.execute(
                sql.SQL(
                    "SELECT g.id, g.manifest, g.details FROM {0}.current c "
                    "JOIN {0}.generations g ON g.id = c.generation"
                ).format(self._ns)
            ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else None

    def token(self) -> int | None:
        """One single-row read per question; the schema version is checked on the first
        call and again whenever that read fails (the schema may have been replaced)."""
        current = sql.SQL("SELECT generation FROM {}.current").format(self._ns)
        with self._pool.connection() as db, _database(f"cannot read {self.describe()}"):
            if self._checked:
                try:
                    row = db.execute(current).fetchone()
                except psycopg.Error:
                    self._checked = False
            if not self._checked:
                if not self._check(db):
                    return None
                row = db.execute(current).fetchone()
                self._checked = True
        return int(row[0]) if row and row[0] is not None else None

    def has_index(self) -> bool:
        return self.token() is not None

    def open_current(self, model: str, dimension: int) -> PgGeneration:
        current = self._current()
        if current is None:
            raise IndexMissingError(f"no index in {redact(self._url)} yet")
        generation, data, details = current
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatibleError(
                f"the index is format {data.get('format_version')!r}; "
                f"this newsdesk reads format {FORMAT_VERSION}"
            )
        fields = Manifest.__dataclass_fields__
        manifest = Manifest(**{key: data[key] for key in fields if key in data})
        if manifest.model != model or manifest.dimension != dimension:
            raise IndexIncompatibleError(
                f"the index was built with {manifest.model} ({manifest.dimension}d) "
                f"but the configured model is {model} ({dimension}d)"
            )
        return PgGeneration(self._pool, self.namespace, generation, manifest, details, self.lexical)

    def previous(self, model: str, dimension: int) -> PgGeneration | None:
        try:
            return self.open_current(model, dimension)
        except NewsdeskError:
            return None

    # ---------------------------------------------------------------- building

    @contextlib.contextmanager
    def build_lock(self, create: bool = True) -> Iterator[None]:
        """A session advisory lock on a connection of its own: released when the build ends
        or its process dies. Creates the schema in an empty database."""
        db = self._pool.connect()
        try:
            with _database(f"cannot lock {self.describe()}"):
                row = db.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key(self.namespace),))
                locked = row.fetchone()
            if not locked or not locked[0]:
                raise IndexBusyError(
                    "another build of this index is running (perhaps on another replica); "
                    "try again when it ends"
                )
            if create:
                with _database(f"cannot create the schema in {redact(self._url)}"):
                    if not self._check(db):
                        self._create(db)
            yield
        finally:
            db.close()  # ends the session, and with it the lock

    def clean_orphans(self) -> None:
        """Nothing to do: a build that fails or dies rolls back and leaves nothing."""

    def remove_orphans(self) -> None:
        """Drop generation schemas no generation row names (none are expected: builds are
        one transaction; this only tidies after manual interventions)."""
        with self._pool.connection() as db, _database("cannot tidy the index"):
            known = {f"{self.namespace}_g{r[0]}" for r in db.execute(
                sql.SQL("SELECT id FROM {}.generations").format(self._ns)).fetchall()}  # fmt: skip
            for schema in set(self._generation_schemas(db)) - known:
                db.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    def publish(
        self,
        manifest: Manifest,
        base: SegmentRows | IndexGeneration,
        delta: SegmentRows,
        files: dict[str, Any],
        switching: Callable[[], None],
    ) -> Manifest:
        # The indexer plans updates in place only for a directory's generations, so a
        # database always gets every row in `base` (`files` records source files for them).
        if not isinstance(base, SegmentRows) or delta.passages:
            raise TypeError("a database generation is always written whole")
        articles, passages = base.articles, base.passages
        vectors = (base.passage_vectors, base.sentence_vectors)
        lexical, multilingual = LexicalIndex([base.lexical]), base.multilingual
        manifest = dataclasses.replace(manifest, checksums={})
        db = self._pool.connect()  # autocommit: transaction() below is BEGIN … COMMIT
        try:
            with _database(f"cannot write {self.describe()}"):
                with db.transaction():
                    generation, serving, details = self._write(
                        db, manifest, articles, passages, vectors, lexical, multilingual
                    )
                    db.execute(
                        sql.SQL("INSERT INTO {}.generations (id, manifest, details) "
                                "VALUES (%s, %s, %s)").format(self._ns),
                        (generation, json.dumps(dataclasses.asdict(manifest)),
                         json.dumps(details)),
                    )  # fmt: skip
                    switching()
                    db.execute(
                        sql.SQL("UPDATE {}.current SET generation = %s").format(self._ns),
                        (generation,),
                    )
                    db.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(generation)))
                self._prune(db, keep={generation, serving})
        finally:
            db.close()
        return manifest

    def _write(
        self,
        db: psycopg.Connection[Any],
        manifest: Manifest,
        articles: Sequence[ArticleRow],
        passages: Sequence[PassageRow],
        vectors: tuple[Matrix, Matrix],
        lexical: LexicalIndex,
        multilingual: tuple[Matrix, Matrix] | None,
    ) -> tuple[int, int | None, dict[str, Any]]:
        """Inside the build's transaction: the new generation's schema, rows and indexes."""
        ns = self._ns
        row = db.execute(sql.SQL("SELECT generation FROM {}.current FOR UPDATE").format(ns))
        serving_row = row.fetchone()
        serving = int(serving_row[0]) if serving_row and serving_row[0] is not None else None
        id_row = db.execute(sql.SQL("SELECT nextval('{}.generation_ids')").format(ns)).fetchone()
        assert id_row is not None
        generation = int(id_row[0])
        g = sql.Identifier(f"{self.namespace}_g{generation}")
        db.execute(
            sql.SQL(_GENERATION).format(
                g=g, d=sql.Literal(manifest.dimension), md=sql.Literal(MULTILINGUAL_DIMENSION)
            )
        )
        titles = {row.article.id: row.article.title for row in articles}
        passage_vectors, sentence_vectors = vectors
        ml_passages, ml_sentences = multilingual if multilingual else (None, None)
        oid = self._pool.vector_oid
        assert oid is not None  # looked up when this connection was made, after the schema
        with db.cursor().copy(sql.SQL("COPY {}.articles FROM STDIN").format(g)) as copy:
            for item in articles:
                a = item.article
                copy.write_row((a.id, a.title, a.date, a.url, a.source, a.license, a.path,
                                json.dumps(list(a.paragraphs), ensure_ascii=False),
                                item.digest))  # fmt: skip
        columns = "(id, article_id, position, text, digest, lexical, embedding, ml_embedding)"
        with db.cursor().copy(
            sql.SQL("COPY {}.passages " + columns + " FROM STDIN (FORMAT BINARY)").format(g)
        ) as copy:
            copy.set_types(["int4", "text", "int4", "text", "text", "text", oid, oid])
            for i, p in enumerate(passages):
                copy.write_row((i, p.article_id, p.position, p.text, p.digest,
                                f"{titles[p.article_id]}\n{p.text}", passage_vectors[i],
                                ml_passages[i] if ml_passages is not None else None))  # fmt: skip
        columns = '(id, passage_id, article_id, start, "end", digest, embedding, ml_embedding)'
        spans: list[tuple[int, int, int]] = []
        with db.cursor().copy(
            sql.SQL("COPY {}.sentences " + columns + " FROM STDIN (FORMAT BINARY)").format(g)
        ) as copy:
            copy.set_types(["int4", "int4", "text", "int4", "int4", "text", oid, oid])
            for i, p in enumerate(passages):
                for start, end, digest in p.sentences:
                    row_id = len(spans)
                    spans.append((i, start, end))
                    ml = None if ml_sentences is None else ml_sentences[row_id]
                    copy.write_row(
                        (row_id, i, p.article_id, start, end, digest, sentence_vectors[row_id], ml)
                    )
        files = _lexical_files(lexical)
        buffer = io.BytesIO()
        np.save(buffer, np.array(spans, dtype=np.int64).reshape(-1, 3))
        files["sentences.npy"] = buffer.getvalue()
        with db.cursor().copy(sql.SQL("COPY {}.files FROM STDIN").format(g)) as copy:
            for name, data in files.items():
                copy.write_row((name, data))
        details = {
            "hnsw": self._indexes(db, g, len(passages), len(spans), multilingual is not None)
        }
        return generation, serving, details

    def _indexes(
        self, db: psycopg.Connection[Any], g: sql.Identifier, passages: int, sentences: int,
        multilingual: bool,
    ) -> list[str]:  # fmt: skip
        """B-tree and full-text indexes always; HNSW on a vector set from `hnsw_from` rows
        (below it an exact scan is fast and exact, as in the FAISS backend)."""
        db.execute(sql.SQL("CREATE INDEX ON {}.passages (article_id, position)").format(g))
        db.execute(sql.SQL("CREATE INDEX ON {}.passages USING gin (tsv)").format(g))
        db.execute("SET LOCAL maintenance_work_mem = '1GB'")
        hnsw: list[str] = []
        for table, count in (("passages", passages), ("sentences", sentences)):
            if count < self.hnsw_from:
                continue
            for column in ("embedding", "ml_embedding") if multilingual else ("embedding",):
                db.execute(
                    sql.SQL(
                        "CREATE INDEX ON {}.{} USING hnsw ({} vector_ip_ops) "
                        "WITH (m = {}, ef_construction = {})"
                    ).format(g, sql.Identifier(table), sql.Identifier(column),
                             sql.Literal(HNSW_LINKS), sql.Literal(HNSW_BUILD_DEPTH))
                )  # fmt: skip
                hnsw.append(f"{table}.{column}")
        return hnsw

    def _prune(self, db: psycopg.Connection[Any], keep: set[int | None]) -> None:
        """Drop every generation but the new one and the one serving until now (a replica
        may be mid-question on it). Best effort: a failure leaves an extra generation."""
        try:
            with db.transaction():
                rows = db.execute(sql.SQL("SELECT id FROM {}.generations").format(self._ns))
                for (generation,) in rows.fetchall():
                    if generation in keep:
                        continue
                    schema = sql.Identifier(f"{self.namespace}_g{generation}")
                    db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
                    db.execute(
                        sql.SQL("DELETE FROM {}.generations WHERE id = %s").format(self._ns),
                        (generation,),
                    )
        except psycopg.Error:
            pass


def _lexical_files(lexical: LexicalIndex) -> dict[str, bytes]:
    """The BM25 index's files, by name, as bytes to store beside the rows."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-bm25-") as scratch:
        lexical.save(Path(scratch))
        return {
            f"bm25/{path.name}": path.read_bytes()
            for path in sorted(Path(scratch).iterdir())
            if path.is_file()
        }
