"""PostgreSQL + pgvector as a second index backend (`IndexStore`), shared by every replica.
Tables: schema.py; connections: connection.py; reading a generation: generation.py.

A build writes the whole new generation, and points `current` at it, in ONE transaction
(PostgreSQL's DDL is transactional): a failed or killed build leaves nothing behind and the
old generation serving. Replicas compare `current` with the generation they hold before every
question (one indexed single-row read) and load the new one when it has changed; the switch
also sends NOTIFY on `newsdesk_generation` for anything else that wants to listen. Builds take
a session advisory lock, so two replicas asked to reindex at once run one build and tell the
other; the lock goes with the connection if the builder dies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from embeddings.errors import (
    IndexBusyError,
    IndexIncompatibleError,
    IndexMissingError,
    NewsdeskError,
)
from embeddings.index.backend import APPROXIMATE_FROM, Lexical, Matrix, SharedBase
from embeddings.index.lexical import LexicalIndex
from embeddings.index.manifest import Manifest
from embeddings.index.postgres.connection import Pool, database_errors, redact
from embeddings.index.postgres.generation import PgGeneration
from embeddings.index.postgres.schema import GENERATION, META, SCHEMA_VERSION
from embeddings.index.rows import ArticleRow, PassageRow, SegmentRows

NOTIFY_CHANNEL = "newsdesk_generation"
# An HNSW index from the size where FAISS stops searching exactly too; below it an exact scan
# is fast and exact. Graph settings as measured in README "Scaling out".
HNSW_FROM = APPROXIMATE_FROM
HNSW_LINKS = 32
HNSW_BUILD_DEPTH = 200
_NAMESPACE = re.compile(r"[a-z_][a-z0-9_]{0,40}")


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
        self._pool = Pool(url)
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
            db.execute(sql.SQL(META).format(ns=self._ns))
            db.execute(
                sql.SQL("INSERT INTO {}.meta VALUES ('schema_version', %s)").format(self._ns),
                (str(SCHEMA_VERSION),),
            )
        self._pool.vector_oid = None  # the extension may be new: look its type up again
        self._pool.close()

    def migrate(self) -> bool:
        """Drop this namespace's schema and generations (the index is derived data), so the
        next build creates the current schema. Takes the build lock."""
        self._checked = False
        with self.build_lock(create=False), self._pool.connection() as db, db.transaction():
            for schema in [*self._generation_schemas(db), self.namespace]:
                db.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
        return True

    def _generation_schemas(self, db: psycopg.Connection[Any]) -> list[str]:
        pattern = self.namespace.replace("_", r"\_") + r"\_g%"
        rows = db.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", (pattern,)
        ).fetchall()
        return [str(r[0]) for r in rows if re.fullmatch(rf"{self.namespace}_g\d+", str(r[0]))]

    # ---------------------------------------------------------------- reading

    def _current(self) -> tuple[int, dict[str, Any], dict[str, Any]] | None:
        with self._pool.connection() as db, database_errors(f"cannot read {self.describe()}"):
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
        with self._pool.connection() as db, database_errors(f"cannot read {self.describe()}"):
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
        manifest = Manifest.from_dict(data)
        manifest.check_model(model, dimension)
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
            with database_errors(f"cannot lock {self.describe()}"):
                row = db.execute("SELECT pg_try_advisory_lock(%s)", (_lock_key(self.namespace),))
                locked = row.fetchone()
            if not locked or not locked[0]:
                raise IndexBusyError(
                    "another build of this index is running (perhaps on another replica); "
                    "try again when it ends"
                )
            if create:
                with database_errors(f"cannot create the schema in {redact(self._url)}"):
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
        with self._pool.connection() as db, database_errors("cannot tidy the index"):
            known = {f"{self.namespace}_g{r[0]}" for r in db.execute(
                sql.SQL("SELECT id FROM {}.generations").format(self._ns)).fetchall()}  # fmt: skip
            for schema in set(self._generation_schemas(db)) - known:
                db.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    def publish(
        self,
        manifest: Manifest,
        base: SegmentRows | SharedBase,
        delta: SegmentRows,
        files: dict[str, Any],
        switching: Callable[[], None],
    ) -> Manifest:
        # This store's generations offer no `shared_base`, so the indexer always gives it
        # every row in `base` (`files` records source files for them).
        if not isinstance(base, SegmentRows) or delta.passages:
            raise TypeError("a database generation is always written whole")
        articles, passages = base.articles, base.passages
        vectors = (base.passage_vectors, base.sentence_vectors)
        lexical, multilingual = LexicalIndex([base.lexical]), base.multilingual
        manifest = dataclasses.replace(manifest, checksums={})
        db = self._pool.connect()  # autocommit: transaction() below is BEGIN … COMMIT
        try:
            with database_errors(f"cannot write {self.describe()}"):
                with db.transaction():
                    generation, serving, details = self._write(
                        db, manifest, articles, passages, vectors, lexical, multilingual
                    )
                    db.execute(
                        sql.SQL("INSERT INTO {}.generations (id, manifest, details) "
                                "VALUES (%s, %s, %s)").format(self._ns),
                        (generation, json.dumps(manifest.to_dict()),
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
            sql.SQL(GENERATION).format(
                g=g,
                d=sql.Literal(manifest.dimension),
                # Without multilingual vectors the column stays empty, whatever its width.
                md=sql.Literal(manifest.multilingual_dimension or manifest.dimension),
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
        columns = (
            "(id, article_id, position, text, digest, speaker, lexical, embedding, ml_embedding)"
        )
        with db.cursor().copy(
            sql.SQL("COPY {}.passages " + columns + " FROM STDIN (FORMAT BINARY)").format(g)
        ) as copy:
            copy.set_types(["int4", "text", "int4", "text", "text", "text", "text", oid, oid])
            for i, p in enumerate(passages):
                copy.write_row((i, p.article_id, p.position, p.text, p.digest, p.speaker,
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
