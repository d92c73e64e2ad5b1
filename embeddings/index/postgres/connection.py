"""Connections to the database: a small pool, pgvector's binary wire format for numpy
vectors, psycopg's errors as NewsdeskErrors, and URLs without their password."""

from __future__ import annotations

import contextlib
import queue
import re
import struct
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format

from embeddings.errors import DatabaseError

# pgvector's ceiling for hnsw.ef_search.
HNSW_SEARCH_DEPTH = 1000


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


class Pool:
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
            raise DatabaseError(f"cannot connect to {redact(self._url)}: {reason(error)}") from None
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


def reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1][:200] if text else type(error).__name__


@contextlib.contextmanager
def database_errors(what: str) -> Iterator[None]:
    """psycopg's errors become one clear NewsdeskError."""
    try:
        yield
    except psycopg.Error as error:
        raise DatabaseError(f"{what}: {reason(error)}") from None
