"""What the feed poller remembers between polls, in SQLite.

`feeds`: per feed URL its validators (ETag / Last-Modified), last success, last error and the
backoff after failures. `items`: every entry seen, by GUID, with its URLs (as listed and after
redirects), the file it was saved to, its content hash and its page validators. An entry is
"seen" when its GUID, its URL or its content hash is already here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT
);
CREATE TABLE IF NOT EXISTS items (
    guid TEXT PRIMARY KEY,
    feed TEXT NOT NULL,
    url TEXT NOT NULL,
    final_url TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    stamp TEXT,
    etag TEXT,
    last_modified TEXT,
    fetched TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_url ON items(url);
CREATE INDEX IF NOT EXISTS items_final_url ON items(final_url);
CREATE INDEX IF NOT EXISTS items_hash ON items(content_hash);
"""


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    failures: int = 0
    next_attempt: str | None = None
    items: int = 0


@dataclass(frozen=True, slots=True)
class ItemState:
    guid: str
    feed: str
    url: str
    final_url: str
    path: str  # relative to the data folder
    content_hash: str
    stamp: str | None  # the entry's updated/published time when last fetched
    etag: str | None
    last_modified: str | None
    fetched: str


_ITEM_COLUMNS = (
    "guid, feed, url, final_url, path, content_hash, stamp, etag, last_modified, fetched"
)


class FeedStore:
    """One connection, used from one thread (a poll runs in its own thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ feeds

    def feed(self, url: str) -> FeedState:
        row = self._db.execute(
            "SELECT url, title, etag, last_modified, last_success, last_error, last_error_at, "
            "failures, next_attempt, (SELECT COUNT(DISTINCT path) FROM items WHERE feed = ?) "
            "FROM feeds WHERE url = ?",
            (url, url),
        ).fetchone()
        return FeedState(*row) if row else FeedState(url)

    def feed_fetched(
        self, url: str, now: str, title: str | None, etag: str | None, last_modified: str | None
    ) -> None:
        """The feed answered (200 or 304): clear its failures, remember its validators."""
        with self._db:
            self._db.execute(
                "INSERT INTO feeds (url, title, etag, last_modified, last_success, failures) "
                "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(url) DO UPDATE SET "
                "title = COALESCE(excluded.title, title), etag = excluded.etag, "
                "last_modified = excluded.last_modified, last_success = excluded.last_success, "
                "failures = 0, next_attempt = NULL",
                (url, title, etag, last_modified, now),
            )

    def feed_failed(self, url: str, now: str, error: str, next_attempt: str | None) -> int:
        """Record a failure; returns how many in a row this feed has had."""
        with self._db:
            self._db.execute(
                "INSERT INTO feeds (url, last_error, last_error_at, failures, next_attempt) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT(url) DO UPDATE SET "
                "last_error = excluded.last_error, last_error_at = excluded.last_error_at, "
                "failures = failures + 1, next_attempt = excluded.next_attempt",
                (url, error, now, next_attempt),
            )
        return self.feed(url).failures

    def set_next_attempt(self, url: str, next_attempt: str) -> None:
        with self._db:
            self._db.execute("UPDATE feeds SET next_attempt = ? WHERE url = ?", (next_attempt, url))

    def article_failed(self, feed: str, now: str, error: str) -> None:
        """An article of a working feed failed: shown as the feed's last error, no backoff."""
        with self._db:
            self._db.execute(
                "INSERT INTO feeds (url, last_error, last_error_at) VALUES (?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET last_error = excluded.last_error, "
                "last_error_at = excluded.last_error_at",
                (feed, error, now),
            )

    # ------------------------------------------------------------------ items

    def item(self, guid: str, *urls: str) -> ItemState | None:
        """The item with this GUID, else one listed at or redirected to any of `urls`."""
        row = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE guid = ?", (guid,))
        found = row.fetchone()
        for url in urls:
            if found:
                break
            found = self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE url = ? OR final_url = ? LIMIT 1",
                (url, url),
            ).fetchone()
        return ItemState(*found) if found else None

    def item_with_hash(self, content_hash: str) -> ItemState | None:
        found = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE content_hash = ? LIMIT 1", (content_hash,)
        ).fetchone()
        return ItemState(*found) if found else None

    def save_item(self, item: ItemState) -> None:
        with self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO items ({_ITEM_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    item.guid,
                    item.feed,
                    item.url,
                    item.final_url,
                    item.path,
                    item.content_hash,
                    item.stamp,
                    item.etag,
                    item.last_modified,
                    item.fetched,
                ),
            )
            # Other GUIDs saved to the same file (the same story under a new URL) follow it.
            self._db.execute(
                "UPDATE items SET content_hash = ? WHERE path = ?", (item.content_hash, item.path)
            )
