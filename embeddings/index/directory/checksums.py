"""manifest.json: the manifest of a generation in a directory, with a checksum of every other
file in it, so a truncated or overwritten file is never loaded to answer wrongly."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from embeddings.errors import IndexCorruptError, IndexIncompatibleError
from embeddings.index.directory.durable import write_atomically
from embeddings.index.manifest import Manifest

# How long before its stamp a file must have been modified for the stamp to be trusted: far
# more than the timestamp granularity of the file systems an index lives on (ext4, XFS,
# btrfs, tmpfs: a clock tick of a few milliseconds).
RACY_NS = 1_000_000_000


def read_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexIncompatibleError(f"the index manifest cannot be read ({error})") from None
    return Manifest.from_dict(data)


def write_manifest(path: Path, manifest: Manifest) -> None:
    write_atomically(path, json.dumps(manifest.to_dict(), indent=2) + "\n")


def verify(manifest: Manifest, directory: Path, skip: Sequence[str] = ()) -> None:
    """IndexCorruptError unless every file the manifest lists is there with the bytes it was
    written with. Files under the folders in `skip` are not read (their contents are in
    memory, verified when they were first loaded).

    A file whose size, modification time and inode still equal its stamp is not read again:
    writing to a file, truncating or replacing it changes one of them, and re-reading
    gigabytes of vectors at every start is what made a large archive start slowly. As in
    git's "racily clean" rule, a stamp is trusted only for a file modified well before the
    stamp was taken: within a file system's timestamp granularity a later write could leave
    the modification time unchanged."""
    if not manifest.checksums:
        raise IndexCorruptError("the index manifest lists no files")
    for name, expected in sorted(manifest.checksums.items()):
        if any(name.startswith(f"{folder}/") for folder in skip):
            continue
        path = directory / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise IndexCorruptError(f"the index manifest names {name!r}, outside the index")
        try:
            stamp = trusted_stamp(manifest, name)
            if stamp is not None and stamp == file_stamp(path):
                continue
            actual = file_checksum(path)
        except FileNotFoundError:
            raise IndexCorruptError(f"{name} is missing from the index") from None
        except OSError as error:
            raise IndexCorruptError(f"{name} cannot be read ({error.strerror})") from None
        if actual != expected:
            raise IndexCorruptError(f"{name} is damaged (its checksum does not match the manifest)")


def trusted_stamp(manifest: Manifest, name: str) -> list[int] | None:
    """The stamp of `name`, if it was taken long enough after the file's last write."""
    stamp = manifest.stamps.get(name)
    return stamp if stamp is not None and stamp[1] <= manifest.stamped_ns - RACY_NS else None


def file_stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def file_checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=32)
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
