"""The generations inside one index directory, and CURRENT, the pointer to the one in use.

Layout of an index directory::

    CURRENT                  name of the generation in use (replaced atomically)
    .lock                    held by the one build that may run at a time
    generations/<name>/      manifest.json, files.json (the source files read, with their
                             size and times), and two segments, base/ and delta/ (see
                             segment_files.py)

A build writes a complete new generation beside the old one and only then replaces CURRENT,
so a crash at any point leaves the previous index serving. Readers resolve CURRENT once and
keep their generation; the previous generation is kept so a reader mid-query never loses it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from embeddings.errors import IndexBusyError, IndexIncompatibleError
from embeddings.index.directory.durable import write_atomically


class IndexDirectory:
    """Generations inside one index directory and the pointer to the current one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generations = root / "generations"
        self._pointer = root / "CURRENT"

    def current(self) -> Path | None:
        try:
            name = self._pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.generations / name
        return path if name and path.is_dir() else None

    def current_token(self) -> tuple[int, int] | None:
        """Changes whenever CURRENT is replaced: cheap enough to check before every query."""
        try:
            stat = self._pointer.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def new_generation(self) -> Path:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.generations / f"{stamp}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    def switch(self, generation: Path) -> None:
        """Make `generation` current in one atomic rename."""
        if not (generation / "manifest.json").is_file():
            raise IndexIncompatibleError(f"refusing to switch to incomplete {generation.name}")
        write_atomically(self._pointer, generation.name + "\n")

    def clean_orphans(self) -> list[str]:
        """Delete what a crashed build left behind, unless a build is running now (what
        looks orphaned may be its generation). Returns the generation names removed."""
        if not self.root.is_dir():
            return []
        try:
            with self.build_lock():
                return self.remove_orphans()
        except IndexBusyError:
            return []
        except OSError:
            return []  # a read-only index directory can still be served; nothing to clean

    def remove_orphans(self) -> list[str]:
        """Under the build lock: delete every generation CURRENT does not name that is
        incomplete (no manifest) or newer than the current one (written, never switched to),
        and stray temporary pointers. The older complete generation is the previous index,
        which a reader may still be using, so it stays."""
        current = self.current()
        for temporary in self.root.glob(".CURRENT.*.tmp"):
            temporary.unlink(missing_ok=True)
        removed: list[str] = []
        if not self.generations.is_dir():
            return removed
        for path in sorted(self.generations.iterdir()):
            if path == current:
                continue
            complete = (path / "manifest.json").is_file()
            if not complete or current is None or path.name > current.name:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def prune(self, keep: Iterable[Path | None]) -> None:
        """Delete every generation but those in `keep` (leftovers of crashed builds too)."""
        kept = {path for path in keep if path is not None}
        if self.generations.is_dir():
            for path in self.generations.iterdir():
                if path not in kept:
                    shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    "another build of this index is running; try again when it ends"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
