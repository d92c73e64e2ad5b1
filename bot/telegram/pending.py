"""Uploads saved into the data folder whose build has not ended, kept in the state database.

An upload is written into the data folder before its build, and put back if the build fails;
a process killed meanwhile (kill -9, out of memory, power) never gets to put it back. So each
upload is recorded first, with what the file held before (if it existed), and the record is
removed when its build ends either way. A record found at the next start is rolled back: the
file restored or removed, the admin's stuck status message told so. Rolling back, not indexing,
because the upload itself may be what killed the process.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from embeddings.ingest.upload import write_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_uploads (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,  -- the status message to resolve
    path TEXT NOT NULL,
    previous BLOB  -- the file's bytes before the upload; NULL: it did not exist
);
"""


@dataclass(frozen=True, slots=True)
class PendingUpload:
    id: int
    chat_id: int
    message_id: int
    path: Path
    previous: bytes | None

    def roll_back(self) -> None:
        """Put the data folder back as it was before this upload."""
        if self.previous is None:
            self.path.unlink(missing_ok=True)
        else:
            write_file(self.path, self.previous)


class PendingUploads:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def add(self, chat_id: int, message_id: int, path: Path) -> int:
        """Record an upload about to be written to `path`; its id, for `remove`."""
        previous = path.read_bytes() if path.is_file() else None
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO pending_uploads (chat_id, message_id, path, previous) "
                "VALUES (?, ?, ?, ?)",
                (chat_id, message_id, str(path), previous),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def remove(self, upload_id: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM pending_uploads WHERE id = ?", (upload_id,))

    def all(self) -> list[PendingUpload]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, chat_id, message_id, path, previous FROM pending_uploads ORDER BY id"
            ).fetchall()
        return [PendingUpload(r[0], r[1], r[2], Path(r[3]), r[4]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
