"""The embedded backend (`IndexStore`): generations of FAISS files, SQLite and BM25 in one
directory (generations.py), written by segment_files.py, read by generation.py."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from embeddings.errors import IndexWriteError, NewsdeskError
from embeddings.index.backend import SharedBase
from embeddings.index.directory.generation import Generation, open_current
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.directory.segment_files import write_generation
from embeddings.index.manifest import Manifest
from embeddings.index.rows import SegmentRows


@contextlib.contextmanager
def _writing(root: Path) -> Iterator[None]:
    """Turn a failure to write the index (disk full, read-only folder, file size limit) into
    one clear error; the generation being written is discarded and the old one serves on."""
    try:
        yield
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise IndexWriteError(f"cannot write the index in {root}: {reason}") from None
    except RuntimeError as error:  # FAISS reports failed writes as RuntimeError
        raise IndexWriteError(f"cannot write the index in {root}: {_faiss_reason(error)}") from None


# What a failed write of FAISS says at the end of a long message (its C++ source location
# and the file name come first): the operating system's reason, as strerror words it.
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EIO)


def _faiss_reason(error: RuntimeError) -> str:
    text = str(error)
    known = next((os.strerror(e) for e in _WRITE_ERRNOS if os.strerror(e) in text), None)
    return known or text.strip().splitlines()[-1][:160]


class DirectoryStore:
    """The index in one directory (`IndexStore` for the indexer and the engine)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = IndexDirectory(root)

    def describe(self) -> str:
        return f"the index in {self.root}"

    def token(self) -> tuple[int, int] | None:
        return self.directory.current_token()

    def has_index(self) -> bool:
        return self.directory.current() is not None

    def open_current(self, model: str, dimension: int) -> Generation:
        return open_current(self.root, model, dimension)

    def clean_orphans(self) -> None:
        self.directory.clean_orphans()

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            with _writing(self.root):  # a read-only folder fails here, before any work
                stack.enter_context(self.directory.build_lock())
            yield

    def remove_orphans(self) -> None:
        with _writing(self.root):
            self.directory.remove_orphans()

    def previous(self, model: str, dimension: int) -> Generation | None:
        """The serving generation if its vectors can be reused; a damaged one is rebuilt."""
        path = self.directory.current()
        if path is None:
            return None
        try:
            return Generation(path, model, dimension)
        except NewsdeskError:
            return None

    def migrate(self) -> bool:
        """Nothing to migrate: each generation names its format in its manifest, and a
        build replaces one of another format whole."""
        return False

    def publish(
        self,
        manifest: Manifest,
        base: SegmentRows | SharedBase,
        delta: SegmentRows,
        files: dict[str, Any],
        switching: Callable[[], None],
    ) -> Manifest:
        serving = self.directory.current()
        with _writing(self.root):
            target = self.directory.new_generation()
        try:
            with _writing(self.root):
                manifest = write_generation(target, manifest, base, delta, files)
            switching()
            with _writing(self.root):
                self.directory.switch(target)
        except Exception:
            # Disk full, no permission: CURRENT still names the old generation, and the
            # half-written new one must not fill the disk further.
            if self.directory.current() != target:
                shutil.rmtree(target, ignore_errors=True)
            raise
        # Keep the generation that was serving until now: a reader may still be using it.
        self.directory.prune(keep=[target, serving])
        return manifest
