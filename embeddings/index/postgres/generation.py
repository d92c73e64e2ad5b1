"""Reading one generation from the database (`IndexGeneration`): vectors are searched there
(exact below `HNSW_FROM` rows, an HNSW index from there, like the FAISS backend), and the
candidates' vectors are fetched and scored by the ranker in process, so both backends share
every line of the fusion and answer-sentence logic."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from psycopg import sql

from embeddings.errors import IndexIncompatibleError
from embeddings.index.backend import DenseLexicalScores, Ids, Lexical, LexicalScores, Matrix
from embeddings.index.lexical import LexicalIndex
from embeddings.index.manifest import Manifest
from embeddings.index.postgres.connection import Pool, database_errors
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


class PgVectors:
    """One vector column of one generation (`VectorSpace`)."""

    def __init__(
        self,
        pool: Pool,
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
            database_errors("vector search failed"),
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
        with self._pool.connection() as db, database_errors("reading vectors failed"):
            found = dict(db.execute(self._rows, (wanted,), binary=True).fetchall())
        return np.stack([found[i] for i in wanted])

    def all(self) -> Matrix:
        with self._pool.connection() as db, database_errors("reading vectors failed"):
            rows = db.execute(self._all, binary=True).fetchall()
        if not rows:
            return np.zeros((0, self._dimension), np.float32)
        return np.stack([r[0] for r in rows])


class FtsScores:
    """PostgreSQL full-text search as the lexical signal (`LexicalScores`): ts_rank over the
    passages' tsvector (English configuration) for an OR of the question's stemmed terms."""

    def __init__(self, pool: Pool, schema: str, tokens: Sequence[str]) -> None:
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
        with self._pool.connection() as db, database_errors("full-text search failed"):
            rows = db.execute(self._top, (self._query, self._query, k)).fetchall()
        return np.array([r[0] for r in rows if r[1] > 0], dtype=np.int64)

    def at(self, rows: Ids) -> npt.NDArray[np.float32]:
        out = np.zeros(len(rows), np.float32)
        if not self._query or len(rows) == 0:
            return out
        with self._pool.connection() as db, database_errors("full-text search failed"):
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
        pool: Pool,
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
        translated = manifest.multilingual_dimension
        if manifest.multilingual and translated is not None:
            self.multilingual = (
                space("passages", "ml_embedding", manifest.count, translated),
                space("sentences", "ml_embedding", manifest.sentences, translated),
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
        with self._pool.connection() as db, database_errors("reading the index failed"):
            return db.execute(query, parameters).fetchall()

    def lexical_scores(self, tokens: Sequence[str]) -> LexicalScores:
        if self._lexical_mode == "fts":
            return FtsScores(self._pool, self.schema, tokens)
        return DenseLexicalScores(self.lexical.scores(tokens))

    def passage_rows(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        rows = self._select(
            "SELECT p.id, p.text, p.position, a.id, a.title, a.date, a.url, a.source, p.speaker "
            "FROM {0}.passages p JOIN {0}.articles a ON a.id = p.article_id WHERE p.id = ANY(%s)",
            ([int(i) for i in ids],),
        )
        return {int(row[0]): stored_passage(row[1:]) for row in rows}

    def article(self, article_id: str) -> Article | None:
        rows = self._select(
            f"SELECT {ARTICLE_COLUMNS} FROM {{}}.articles WHERE id = %s", (article_id,)
        )
        return article_from_row(rows[0]) if rows else None

    def article_paths(self) -> dict[str, str]:
        return {str(a): str(b) for a, b in self._select("SELECT id, path FROM {}.articles", ())}

    def catalogue(self) -> Catalogue:
        # `_select` puts this generation's schema where the statement says {}.
        return read_catalogue(lambda statement: self._select(statement, ()), "{}.articles")

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
        with self._pool.connection() as db, database_errors("reading the index size failed"):
            row = db.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (self.schema,),
            ).fetchone()
        return int(row[0]) if row else 0

    def shared_base(self) -> None:
        """None: a database generation is always written whole, in one transaction."""

    def close(self) -> None:
        """Nothing to release: connections belong to the store's pool."""
