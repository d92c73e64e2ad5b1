"""What the bot was asked and how it went, in SQLite: for /stats and for tuning later.

Each question is stored with its results (article ids, positions, scores) and the reader's
👍/👎, which is exactly the labelled data a ranking or decline threshold can be tuned on.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from embeddings import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked REAL NOT NULL,          -- unix time
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,    -- 0: declined
    confidence REAL NOT NULL,
    latency_ms REAL NOT NULL,
    results TEXT NOT NULL         -- JSON: [{article_id, position, score}]
);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions(id),
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL,        -- +1 or -1
    voted REAL NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
"""


@dataclass(frozen=True, slots=True)
class Usage:
    answered: int
    declined: int
    thumbs_up: int
    thumbs_down: int
    p50_ms: float | None
    p95_ms: float | None


class BotLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record_question(self, user_id: int, chat_id: int, answer: Answer, latency_ms: float) -> int:
        results = [
            {"article_id": r.article_id, "position": r.position, "score": round(r.score, 4)}
            for r in answer.results
        ]
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO questions (asked, user_id, chat_id, question, answered, confidence, "
                "latency_ms, results) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), user_id, chat_id, answer.question, int(answer.answered),
                 answer.confidence, latency_ms, json.dumps(results)),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    def record_vote(self, question_id: int, user_id: int, vote: int) -> None:
        """One vote per reader per answer; voting again replaces it."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?) ON CONFLICT (question_id, user_id) "
                "DO UPDATE SET vote = excluded.vote, voted = excluded.voted",
                (question_id, user_id, 1 if vote > 0 else -1, time.time()),
            )

    def usage(self) -> Usage:
        with self._lock, contextlib.closing(self._db.cursor()) as cursor:
            answered, declined = cursor.execute(
                "SELECT COALESCE(SUM(answered), 0), COALESCE(SUM(1 - answered), 0) FROM questions"
            ).fetchone()
            up, down = cursor.execute(
                "SELECT COALESCE(SUM(vote > 0), 0), COALESCE(SUM(vote < 0), 0) FROM feedback"
            ).fetchone()
            latencies = [row[0] for row in cursor.execute(
                "SELECT latency_ms FROM questions ORDER BY latency_ms")]  # fmt: skip
        return Usage(
            answered, declined, up, down, _percentile(latencies, 50), _percentile(latencies, 95)
        )


def _percentile(ordered: list[float], percent: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
