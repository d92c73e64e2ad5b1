"""The one way to get an `IndexStore`: a directory (the embedded default) or a database.

PostgreSQL's module, and psycopg with it, is imported only when a database is asked for:
the default install has no psycopg.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embeddings.index.backend import IndexStore, Lexical
from embeddings.index.directory.store import DirectoryStore


@dataclass(frozen=True, slots=True)
class Database:
    """An index in PostgreSQL + pgvector (pip install 'newsdesk[postgres]')."""

    url: str = field(repr=False)  # may hold the password: never shown
    schema: str = "newsdesk"
    lexical: Lexical = "bm25"


def open_store(where: Path | Database) -> IndexStore:
    """The index in the directory `where` (FAISS files, SQLite), or in the database."""
    if isinstance(where, Path):
        return DirectoryStore(where)
    from embeddings.index.postgres.store import PostgresStore  # psycopg only when asked for

    return PostgresStore(where.url, where.schema, where.lexical)
