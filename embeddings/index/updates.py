"""Which source files changed since the current generation, and what its delta must hold.

Each generation records the files it read (files.json): size, modification and change times
and inode, the article ids each gave and the problems it had. A file whose record matches is
not read again; the others are parsed, and their articles compared with the base segment:

- an article identical to its live base row stays in the base, untouched;
- any other (new, changed, or already in the delta) is written to the new delta, and its base
  row, if any, is marked dead;
- an article whose file was deleted, or no longer holds it, is dead in the base (or dropped
  from the delta).

When the answer could differ from a full build's, `plan_update` returns None and the caller
builds everything: no record yet, other sources or models, or an article id claimed by two
files (which one wins depends on the order of all files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.errors import ParseError
from embeddings.index.backend import SharedBase
from embeddings.ingest.articles import Article, article_id_for, discover, parse_file

FileTable = dict[str, dict[str, Any]]  # path → {"root", "stat", "articles", "problems"}
TAKEN = "already taken by"  # the problem an article id claimed twice is reported with


def file_stat(path: Path) -> list[int]:
    """What tells a changed file: size, mtime and ctime (no tool sets ctime back), inode."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def read_files(
    files: Sequence[tuple[Path, Path]], taken: dict[str, str] | None = None
) -> tuple[list[Article], list[str], FileTable]:
    """Parse `files` ((root, path) pairs, in order): their articles, problems, and records.
    An article id already in `taken` (id → file), or met before, is skipped as a problem."""
    articles: list[Article] = []
    problems: list[str] = []
    table: FileTable = {}
    seen = dict(taken or {})
    for root, path in files:
        entry: dict[str, Any] = {"root": str(root), "stat": [], "articles": [], "problems": []}
        table[str(path)] = entry
        try:
            entry["stat"] = file_stat(path)  # before reading: a later write is seen next time
            parsed = parse_file(path, article_id_for(root, path))
        except ParseError as error:
            entry["problems"].append(f"{path}: {error}")
            continue
        except OSError as error:
            entry["problems"].append(f"{path}: cannot read ({error.strerror})")
            continue
        entry["problems"].extend(f"{path}: {problem}" for problem in parsed.problems)
        for article in parsed.articles:
            if article.id in seen:
                entry["problems"].append(
                    f"{path}: article id {article.id!r} {TAKEN} {seen[article.id]}"
                )
                continue
            seen[article.id] = str(path)
            entry["articles"].append(article.id)
            articles.append(article)
    for entry in table.values():
        problems.extend(entry["problems"])
    return articles, problems, table


@dataclass(slots=True)
class Update:
    """What an incremental build writes: the whole new delta and the base articles dead."""

    table: FileTable
    problems: list[str]
    delta: list[Article] = field(default_factory=list)  # every article of the new delta
    dead: list[str] = field(default_factory=list)  # base articles no longer served
    touched: set[str] = field(default_factory=set)  # ids whose old rows may lend vectors
    parsed: list[Article] = field(default_factory=list)  # read from changed files
    gone: set[str] = field(default_factory=set)  # ids no file holds any more

    @property
    def unchanged(self) -> bool:
        return not self.touched


def plan_update(
    sources: Sequence[Path], previous: SharedBase, source_names: list[str], multilingual: str | None
) -> Update | None:
    """The delta that brings `previous` up to date with `sources`; None when only a full
    build gives the right answer."""
    manifest = previous.manifest
    if manifest.sources != source_names or manifest.multilingual != multilingual:
        return None
    old = previous.files()
    if not old:
        return None
    found, problems = discover(sources)
    table: FileTable = {}
    changed: list[tuple[Path, Path]] = []
    for root, path in found:
        record = old.get(str(path))
        try:
            same = record is not None and record["stat"] == file_stat(path)
        except OSError:
            same = False  # vanished since discovery: read_files reports it
        if same and record is not None and record["root"] == str(root):
            table[str(path)] = record
        else:
            changed.append((root, path))
    deleted = old.keys() - {str(path) for _, path in found}
    if not changed and not deleted:
        problems += [p for record in table.values() for p in record["problems"]]
        return Update(table, problems)
    if any(TAKEN in p for record in old.values() for p in record["problems"]):
        return None  # an id claimed twice: which file wins depends on every file's order
    owners = {i: path for path, record in table.items() for i in record["articles"]}
    parsed, new_problems, read = read_files(changed, owners)
    if any(TAKEN in p for p in new_problems):
        return None
    table.update(read)
    table = {str(path): table[str(path)] for _, path in found}  # discovery order, as a full build
    problems += [p for record in table.values() for p in record["problems"]]
    before = {i for path in [*deleted, *(str(p) for _, p in changed)] if path in old
              for i in old[path]["articles"]}  # fmt: skip
    update = Update(table, problems, parsed=parsed)
    update.gone = before - {a.id for a in parsed}
    update.touched = before | {a.id for a in parsed}
    _split(update, previous)
    return update


def _split(update: Update, previous: SharedBase) -> None:
    """Fill the delta and the dead list from what was parsed and what is gone."""
    dead = previous.dead_articles()
    live_base = {
        id_: article
        for id_, article in previous.base_articles(sorted(update.touched)).items()
        if id_ not in dead
    }
    # Articles of the old delta that nothing touched stay, as they were.
    update.delta = [a for a in previous.delta_articles() if a.id not in update.touched]
    for article in update.parsed:
        stored = live_base.get(article.id)
        if stored is not None and stored == article:
            continue  # identical to its live base row (every stored field): the base serves it
        update.delta.append(article)
        if stored is not None:
            dead.add(article.id)
    dead.update(i for i in update.gone if i in live_base)
    update.dead = sorted(dead)
