"""Writing a generation's files: two segments, base/ and delta/, each with passages.sqlite,
passages.faiss, sentences.faiss, bm25/, rows.npz (the row maps a reader keeps in memory), and
optionally multilingual-passages.faiss, multilingual-sentences.faiss; then files.json and,
last, manifest.json, which marks the generation complete.

Segments make small updates cheap. A full build writes every row into base/ and an empty
delta/. An update hard-links the previous generation's base/ files (they are never written
after their generation is complete) and writes only delta/: the articles added or changed
since the base was written, with global row numbers that continue the base's, and the ids of
the base articles they replace or that were deleted (`dead_articles`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.index.backend import SharedBase
from embeddings.index.directory.checksums import (
    file_checksum,
    file_stamp,
    trusted_stamp,
    write_manifest,
)
from embeddings.index.directory.durable import fsync_dir, link_or_copy
from embeddings.index.directory.vectors import VectorIndex
from embeddings.index.manifest import Manifest
from embeddings.index.rows import SegmentRows, passage_key

SEGMENTS = ("base", "delta")

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    url TEXT,
    source TEXT,
    license TEXT,
    path TEXT NOT NULL,
    paragraphs TEXT NOT NULL,   -- JSON list: the full article, for "read the whole thing"
    digest TEXT NOT NULL        -- over its passages' digests: tells changed from unchanged
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,     -- row in passages.faiss
    article_id TEXT NOT NULL REFERENCES articles(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    digest TEXT NOT NULL,       -- of the model input; equal digest, reusable vector
    speaker TEXT                -- who is quoted, when the text leaves it implicit
);
CREATE INDEX passages_by_article ON passages(article_id, position);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY,     -- row in sentences.faiss; a passage's sentences are contiguous
    passage_id INTEGER NOT NULL REFERENCES passages(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    digest TEXT NOT NULL
);
-- Articles of the base segment that this (delta) segment replaces or that were deleted.
CREATE TABLE dead_articles (id TEXT PRIMARY KEY);
"""


def write_segment(directory: Path, rows: SegmentRows, dimension: int) -> None:
    directory.mkdir()
    with contextlib.closing(sqlite3.connect(directory / "passages.sqlite")) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (a.id, a.title, a.date, a.url, a.source, a.license, a.path,
                 json.dumps(list(a.paragraphs), ensure_ascii=False), row.digest)
                for row in rows.articles
                for a in [row.article]
            ),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)",
            ((rows.first_passage + i, p.article_id, p.position, p.text, p.digest, p.speaker)
             for i, p in enumerate(rows.passages)),
        )  # fmt: skip
        sentences = (
            (rows.first_passage + i, a, b, d)
            for i, p in enumerate(rows.passages)
            for a, b, d in p.sentences
        )
        db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
            ((rows.first_sentence + row, *sentence) for row, sentence in enumerate(sentences)),
        )
        db.executemany("INSERT INTO dead_articles VALUES (?)", ((i,) for i in rows.dead_articles))
        db.commit()
    VectorIndex.from_vectors(rows.passage_vectors, dimension).save(directory / "passages.faiss")
    VectorIndex.from_vectors(rows.sentence_vectors, dimension).save(directory / "sentences.faiss")
    if rows.multilingual is not None:
        for name, vectors in zip(("passages", "sentences"), rows.multilingual, strict=True):
            # As wide as the multilingual model makes them: the vectors carry their width.
            VectorIndex.from_vectors(vectors, int(vectors.shape[1])).save(
                directory / f"multilingual-{name}.faiss"
            )
    (directory / "bm25").mkdir()
    rows.lexical.save(directory / "bm25")
    # What a reader keeps in memory for every question, ready to load without SQLite.
    spans = [(rows.first_passage + i, a, b) for i, p in enumerate(rows.passages)
             for a, b, _ in p.sentences]  # fmt: skip
    keys = (passage_key(p.article_id, p.position) for p in rows.passages)
    np.savez(
        directory / "rows.npz",
        passage_keys=np.fromiter(keys, np.int64, len(rows.passages)),
        sentence_table=np.array(spans, dtype=np.int64).reshape(-1, 3),
    )


def write_generation(
    directory: Path,
    manifest: Manifest,
    base: SegmentRows | SharedBase,
    delta: SegmentRows,
    files: dict[str, Any],
) -> Manifest:
    """Write every file of a generation; the manifest, with the checksum of each file, goes
    last and marks it complete. `base` is either written, or the generation beside this one
    whose base files are hard-linked (with their checksums) instead. Returns the manifest
    written."""
    linked: dict[str, str] = {}
    # A linked file keeps the stamp of its checksum: a fresh one would vouch for whatever
    # the file holds now, which the old checksum was never compared with.
    carried: dict[str, list[int]] = {}
    if isinstance(base, SegmentRows):
        write_segment(directory / "base", base, manifest.dimension)
        base_rows = [len(base.passages), len(base.sentence_vectors)]
    else:
        source = directory.parent / base.name
        for name, checksum in base.manifest.checksums.items():
            if name.startswith("base/"):
                target = directory / name
                target.parent.mkdir(parents=True, exist_ok=True)
                link_or_copy(source / name, target)
                linked[name] = checksum
                stamp = trusted_stamp(base.manifest, name)
                if stamp is not None:
                    carried[name] = stamp
        base_rows = base.manifest.segments["base"]
    write_segment(directory / "delta", delta, manifest.dimension)
    (directory / "files.json").write_text(json.dumps(files, ensure_ascii=False), "utf-8")
    written = [p for p in directory.rglob("*") if p.relative_to(directory).as_posix() not in linked]
    for path in written:
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for folder in {directory, *(p.parent for p in directory.rglob("*"))}:
        fsync_dir(folder)  # the new names (links included) must survive a crash too
    names = _files(directory)
    # Stamped before the checksums are taken: a file changed while they are computed no
    # longer matches its stamp, and is read again at load.
    stamped_ns = time.time_ns()
    stamps = {name: file_stamp(directory / name) for name in names if name not in linked}
    sums = {name: file_checksum(directory / name) for name in names if name not in linked}
    manifest = dataclasses.replace(
        manifest,
        checksums={**sums, **linked},
        segments={"base": base_rows, "delta": [len(delta.passages), len(delta.sentence_vectors)]},
        stamps={**stamps, **carried},
        stamped_ns=stamped_ns,
    )
    write_manifest(directory / "manifest.json", manifest)
    return manifest


def _files(directory: Path) -> list[str]:
    return [
        path.relative_to(directory).as_posix()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    ]
