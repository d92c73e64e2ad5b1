"""Article files sent by users (the bot's uploads): a safe name, strict validation, and a
write that indexing never sees half done."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from embeddings.errors import ParseError
from embeddings.ingest.articles import (
    SUPPORTED_SUFFIXES,
    Article,
    article_id_for,
    is_reserved_name,
)
from embeddings.ingest.sandbox import parse_bounded

_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(filename: str) -> str:
    """A plain file name (no folders, no hidden files, none of the data folder's own files
    such as README.md or feeds.txt) with a supported suffix, or ParseError."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ParseError(
            f"{filename!r} is not a file type newsdesk reads; "
            f"send one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not Path(name).stem:
        raise ParseError(f"{filename!r} needs a name before its suffix")
    if is_reserved_name(name):
        raise ParseError(f"{name} is a name the data folder keeps for itself; rename the file")
    return name


def validate_upload(name: str, content: bytes, data_dir: Path) -> list[Article]:
    """Parse `content` as it would be read from `data_dir/name`; every record must be valid.
    The parse runs in a child process under a time and memory limit (ingest.sandbox)."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-upload-") as scratch:
        path = Path(scratch) / name
        path.write_bytes(content)
        parsed = parse_bounded(path, article_id_for(Path(scratch), path))
    if parsed.problems:
        shown = "; ".join(parsed.problems[:3])
        more = f" (and {len(parsed.problems) - 3} more)" if len(parsed.problems) > 3 else ""
        raise ParseError(f"{shown}{more}")
    return [dataclasses.replace(a, path=str(data_dir / name)) for a in parsed.articles]


def write_file(target: Path, content: bytes) -> None:
    """Write via a hidden temporary file (never picked up by indexing) and an atomic rename."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, target)


def refuse_taken_ids(articles: list[Article], owners: Mapping[str, str], target: Path) -> None:
    """ParseError when an article id is already used by a file other than `target`
    (`owners`: article id → its file, for every indexed article)."""
    for article in articles:
        owner = owners.get(article.id)
        if owner and Path(owner).resolve() != target.resolve():
            raise ParseError(f"article id {article.id!r} is already used by {owner}")


@contextlib.contextmanager
def provisionally_written(target: Path, content: bytes) -> Iterator[None]:
    """`content` written to `target` (its folder made if need be) for the block; if the block
    fails, the folder is put back as it was, so nothing partial is left behind."""
    previous = target.read_bytes() if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    write_file(target, content)
    try:
        yield
    except BaseException:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            write_file(target, previous)
        raise
