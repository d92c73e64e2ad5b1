"""Per-answer state kept on the server, so inline buttons carry only a short token.

Telegram limits `callback_data` to 64 bytes; a question and its results do not fit. Each
answer gets a random token; buttons say what to do with it ("m:<token>:3"). Sessions live in
the bot's state database (the SQLite file of the question log), so the buttons under an answer
keep working after a restart; they expire after a while (wall-clock time, which a restart does
not reset) and the oldest are dropped beyond a cap, so the table stays bounded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings import Answer, Result, TimeScope

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    created REAL NOT NULL,        -- unix time
    question_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    answer TEXT NOT NULL          -- JSON: the Answer with every result kept for "More"
);
CREATE INDEX IF NOT EXISTS sessions_created ON sessions (created);
"""


@dataclass(slots=True)
class Session:
    answer: Answer  # with more results than one page shows, for "More"
    question_id: int  # row in the bot log, for feedback
    user_id: int
    created: float


class Sessions:
    def __init__(
        self,
        ttl_seconds: float,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.time,
        path: Path | None = None,
    ) -> None:
        """Sessions in the SQLite file at `path` (beside the question log), or in memory."""
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._clock = clock
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # A second writer to the file (the question log) may hold the lock for a moment.
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False, timeout=10.0)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, answer: Answer, question_id: int, user_id: int) -> str:
        token = secrets.token_urlsafe(6)  # 8 characters
        now = self._clock()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (
                    token,
                    now,
                    question_id,
                    user_id,
                    json.dumps(dataclasses.asdict(answer), default=str),
                ),
            )
            self._db.execute("DELETE FROM sessions WHERE created < ?", (now - self._ttl,))
            self._db.execute(
                "DELETE FROM sessions WHERE token NOT IN "
                "(SELECT token FROM sessions ORDER BY created DESC, rowid DESC LIMIT ?)",
                (self._capacity,),
            )
        return token

    def get(self, token: str) -> Session | None:
        """The live session for `token`, or None when unknown or expired."""
        with self._lock:
            row = self._db.execute(
                "SELECT created, question_id, user_id, answer FROM sessions WHERE token = ?",
                (token,),
            ).fetchone()
        if row is None or self._clock() - row[0] > self._ttl:
            return None
        created, question_id, user_id, stored = row
        return Session(_answer_of(json.loads(stored)), question_id, user_id, created)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])


def _answer_of(data: dict[str, Any]) -> Answer:
    """The answer `json.dumps(asdict(answer), default=str)` stored: dates come back from ISO."""
    fields = {key: value for key, value in data.items() if key not in ("results", "scope")}
    fields["nearest_dates"] = tuple(fields.get("nearest_dates", ()))
    scope = data.get("scope")
    if scope is not None:
        since, until = (
            scope[end] and dt.date.fromisoformat(scope[end]) for end in ("since", "until")
        )
        scope = TimeScope(since, until, scope["order"], scope["label"])
    results = [Result(**result) for result in data["results"]]
    return Answer(**fields, results=results, scope=scope)


def _day(iso: str | None) -> dt.date | None:
    return dt.date.fromisoformat(iso) if iso else None
