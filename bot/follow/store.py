"""Who follows which topic, which articles have been matched, which alerts went out.

The same tables live in the bot's SQLite state database, or, under the PostgreSQL backend, in
the database every replica shares (schema `<index schema>_bot`, apart from the index's own
schema, which a migration may drop as derived data). An alert is claimed before it is sent:
a row per (follow, article) inserted with ON CONFLICT DO NOTHING, so of several replicas that
match the same new article exactly one gets to send it, and no topic is alerted twice for an
article. A claim whose send then fails is not retried (at most once, never twice).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import Settings
from embeddings import NewsdeskError

RECENT_ALERTS = 50  # per topic: what a new article is compared with for near-duplicates

_TABLES = """
CREATE TABLE IF NOT EXISTS follows (
    id {serial} PRIMARY KEY,
    user_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    topic TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    UNIQUE (user_id, topic)
);
CREATE TABLE IF NOT EXISTS alerts (
    follow_id BIGINT NOT NULL,      -- no foreign key: an unfollowed topic's claims may stay
    article_id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,             -- the article's text, to recognise its reposts
    sent DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (follow_id, article_id)
);
CREATE TABLE IF NOT EXISTS seen_articles (
    article_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL
);
"""


class FollowLimitError(NewsdeskError):
    """The user already follows as many topics as allowed."""


@dataclass(frozen=True, slots=True)
class Follow:
    id: int
    user_id: int
    chat_id: int
    topic: str


@dataclass(frozen=True, slots=True)
class Alerted:
    """An article already alerted for a topic: what a near-duplicate is recognised by."""

    article_id: str
    title: str
    body: str


Transaction = Callable[[], contextlib.AbstractContextManager[Any]]


class SqlFollows:
    """The statements, written once with `?` placeholders, run in `transaction()`: a context
    giving a connection with execute(sql, params), committed on a clean exit."""

    def __init__(
        self, transaction: Transaction, close: Callable[[], None], placeholder: str = "?"
    ) -> None:
        self._transaction = transaction
        self.close = close
        self.placeholder = placeholder

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.placeholder)

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._transaction() as db:
            return list(db.execute(self._sql(statement), params).fetchall())

    def follow(self, user_id: int, chat_id: int, topic: str, limit: int) -> Follow:
        """Follow `topic` (already following it: that follow); FollowLimitError past `limit`."""
        with self._transaction() as db:
            found = db.execute(
                self._sql("SELECT id FROM follows WHERE user_id = ? AND topic = ?"),
                (user_id, topic),
            ).fetchone()
            if found is not None:
                return Follow(int(found[0]), user_id, chat_id, topic)
            (count,) = db.execute(
                self._sql("SELECT COUNT(*) FROM follows WHERE user_id = ?"), (user_id,)
            ).fetchone()
            if int(count) >= limit:
                raise FollowLimitError(f"you already follow {limit} topics, the most allowed")
            (follow_id,) = db.execute(
                self._sql("INSERT INTO follows (user_id, chat_id, topic, created) "
                          "VALUES (?, ?, ?, ?) RETURNING id"),
                (user_id, chat_id, topic, time.time()),
            ).fetchone()  # fmt: skip
        return Follow(int(follow_id), user_id, chat_id, topic)

    def following(self, user_id: int) -> list[Follow]:
        rows = self._rows(
            "SELECT id, user_id, chat_id, topic FROM follows WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        return [Follow(int(i), int(u), int(c), str(t)) for i, u, c, t in rows]

    def unfollow(self, user_id: int, follow_id: int) -> Follow | None:
        """Stop following; None when `user_id` has no such follow."""
        rows = self._rows(
            "DELETE FROM follows WHERE id = ? AND user_id = ? RETURNING id, user_id, chat_id, "
            "topic",
            (follow_id, user_id),
        )
        return next((Follow(int(i), int(u), int(c), str(t)) for i, u, c, t in rows), None)

    def all_follows(self) -> list[Follow]:
        rows = self._rows("SELECT id, user_id, chat_id, topic FROM follows ORDER BY id")
        return [Follow(int(i), int(u), int(c), str(t)) for i, u, c, t in rows]

    def seen(self) -> dict[str, str]:
        """Article id → digest of every article already matched against the follows."""
        return {str(a): str(d) for a, d in self._rows("SELECT article_id, digest FROM "
                                                      "seen_articles")}  # fmt: skip

    def mark_seen(self, digests: dict[str, str]) -> None:
        with self._transaction() as db:
            for article_id, digest in digests.items():
                db.execute(
                    self._sql("INSERT INTO seen_articles VALUES (?, ?) ON CONFLICT (article_id) "
                              "DO UPDATE SET digest = excluded.digest"),
                    (article_id, digest),
                )  # fmt: skip

    def alerted(self, follow_id: int) -> list[Alerted]:
        rows = self._rows(
            "SELECT article_id, title, body FROM alerts WHERE follow_id = ? "
            "ORDER BY sent DESC LIMIT ?",
            (follow_id, RECENT_ALERTS),
        )
        return [Alerted(str(a), str(t), str(p)) for a, t, p in rows]

    def claim(self, follow_id: int, alert: Alerted) -> bool:
        """Record the alert; False when it was claimed already (here or by another replica)."""
        rows = self._rows(
            "INSERT INTO alerts VALUES (?, ?, ?, ?, ?) ON CONFLICT (follow_id, article_id) "
            "DO NOTHING RETURNING follow_id",
            (follow_id, alert.article_id, alert.title, alert.body, time.time()),
        )
        return bool(rows)


def sqlite_follows(path: Path) -> SqlFollows:
    """In the bot's own state database (one process)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False)
    lock = threading.Lock()
    with lock:
        db.executescript(_TABLES.format(serial="INTEGER"))

    @contextlib.contextmanager
    def transaction() -> Iterator[sqlite3.Connection]:
        with lock, db:
            yield db

    def close() -> None:
        with lock:
            db.close()

    return SqlFollows(transaction, close)


def postgres_follows(url: str, schema: str) -> SqlFollows:
    """In the database the replicas share, in `schema` (created if missing)."""
    from embeddings.index.postgres.connection import Pool, database_errors  # psycopg

    pool = Pool(url, size=2)
    path = f'SET search_path TO "{schema}"'  # settings allow only [a-z0-9_] in schema names

    @contextlib.contextmanager
    def transaction() -> Iterator[Any]:
        with (
            pool.connection() as db,
            database_errors("the follows table failed"),
            db.transaction(),
        ):
            db.execute(path)
            yield db

    with (
        pool.connection() as db,
        database_errors("creating the follows tables failed"),
        db.transaction(),
    ):
        # Replicas start together, and concurrent CREATE … IF NOT EXISTS can still collide in
        # the catalogue: one creates while the others wait, then find everything there.
        db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (schema,))
        db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        db.execute(path)
        db.execute(_TABLES.format(serial="BIGSERIAL"))
    return SqlFollows(transaction, pool.close, placeholder="%s")


def follow_store(settings: Settings) -> SqlFollows:
    """Follows where the settings keep state: beside the index every replica shares (under
    the PostgreSQL backend), else in the bot's own state database."""
    if settings.backend == "postgres" and settings.database_url is not None:
        url = settings.database_url.get_secret_value()
        return postgres_follows(url, f"{settings.database_schema}_bot")
    return sqlite_follows(settings.state_db)
