"""Hostile article files replayed against the real parsers, indexer and upload checks.

`attacks()` lists (name, replay); each replay builds its file in a temporary folder, runs the
attack in a child process under an address-space and CPU limit (a regression is reported as
"killed at the limit", never takes the machine down), and returns a one-line outcome.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.hostile_files import (
    alias_bomb_markdown,
    deep_json,
    deep_yaml_markdown,
    huge_integer_json,
    run_bounded,
    single_line_article,
)

MEMORY_BYTES = 2 * 1024**3
SECONDS = 300.0
_BODY = "A perfectly readable article about the rivers of the north and their floods."


def attacks() -> list[tuple[str, Callable[[], str]]]:
    names = {
        "YAML alias bomb in front matter (421 bytes)": "_alias_bomb",
        "YAML nested 20,000 deep in front matter": "_deep_yaml",
        "5 MB single-line article (chunking)": "_long_line",
        "integer of 5,000 digits, JSON nested 100,000 deep": "_bad_files",
        "JSON fields of the wrong type (object title, id 1e999999)": "_wrong_types",
        "NUL characters past the first 8 KB": "_late_nul",
        "upload named README.md / feeds.txt": "_reserved_names",
        "javascript: URL and a canonical link to another host": "_links",
        "status of 3,000 emoji (UTF-16 length)": "_emoji_status",
        "compaction killed before its switch": "_killed_compaction",
        "full disk under FAISS": "_full_disk",
    }
    return [(name, functools.partial(_replay, function)) for name, function in names.items()]


def _replay(function: str) -> str:
    """Run `function(folder)` of this module in a bounded child; its last line is the outcome."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-hostile-") as folder:
        code = (
            f"from pathlib import Path\nfrom {__name__} import {function}\n"
            f"print({function}(Path({folder!r})))\n"
        )
        try:
            done = run_bounded(code, MEMORY_BYTES, SECONDS)
        except subprocess.TimeoutExpired:
            return f"killed at the {SECONDS:.0f} s limit"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"crashed (exit {done.returncode}): {last[:160]}"
    return done.stdout.strip().splitlines()[-1]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(path: Path) -> str:
    from embeddings.errors import ParseError
    from embeddings.ingest.articles import parse_file

    try:
        parsed = parse_file(path)
    except ParseError as error:
        return f"refused: {error}"
    return f"parsed {len(parsed.articles)} article(s)"


def _alias_bomb(folder: Path) -> str:
    return _refusal(_write(folder, "bomb.md", alias_bomb_markdown()))


def _deep_yaml(folder: Path) -> str:
    return _refusal(_write(folder, "deep.md", deep_yaml_markdown()))


def _build(data: Path, index: Path) -> str:
    from embeddings.index.indexer import build_index
    from embeddings.index.stores import open_store
    from embeddings.models.tiny import TinyEncoder

    summary = build_index([data], open_store(index), TinyEncoder())
    skipped = "; ".join(p.replace(f"{data}/", "") for p in summary.problems)
    return (
        f"indexed {summary.articles} article(s), {summary.passages} passages in "
        f"{summary.seconds:.1f} s" + (f"; skipped {skipped}" if skipped else "")
    )


def _long_line(folder: Path) -> str:
    _write(folder / "data", "long.txt", single_line_article(5))
    return _build(folder / "data", folder / "index")


def _bad_files(folder: Path) -> str:
    data = folder / "data"
    _write(data, "good.txt", f"title Rivers\n\n{_BODY}\n")
    _write(data, "number.json", huge_integer_json())
    _write(data, "deep.json", deep_json())
    return _build(data, folder / "index")


def _wrong_types(folder: Path) -> str:
    data = folder / "data"
    records = [{"title": {"a": 1}, "text": _BODY}, {"id": "ID", "title": "Ok", "text": _BODY}]
    lines = [json.dumps(r) for r in records] + ['{"id": 1e999999, "text": "' + _BODY + '"}']
    _write(data, "records.jsonl", "\n".join(lines) + "\n")
    return _build(data, folder / "index")


def _late_nul(folder: Path) -> str:
    from embeddings.ingest.articles import parse_file

    padding = "Filler words to push the NUL past the first eight kilobytes. " * 200
    path = _write(folder, "a.txt", f"title Rivers\n\n{padding}\n\nThe ri\x00ver rose.\n")
    kept = sum(p.count("\x00") for p in parse_file(path).articles[0].paragraphs)
    return f"{kept} NUL character(s) kept"


def _reserved_names(folder: Path) -> str:
    from embeddings.errors import ParseError
    from embeddings.ingest.upload import safe_filename

    outcomes = []
    for name in ("README.md", "feeds.txt"):
        try:
            outcomes.append(f"{name} accepted as {safe_filename(name)}")
        except ParseError as error:
            outcomes.append(f"refused: {error}")
    return "; ".join(outcomes)


def _links(folder: Path) -> str:
    from embeddings.ingest.articles import parse_file
    from embeddings.ingest.extract import extract_page

    record = {"title": "Floods", "text": _BODY, "url": "javascript:alert(document.cookie)"}
    json_url = parse_file(_write(folder, "a.json", json.dumps(record))).articles[0].url
    markup = (
        '<html><head><title>Floods</title><link rel="canonical" href="https://evil.example/">'
        f"</head><body><article><p>{_BODY}</p></article></body></html>"
    )
    page = extract_page(markup, "https://news.example.org/floods").url
    return f"JSON url cited as {json_url!r}; canonical on another host cited as {page!r}"


def _emoji_status(folder: Path) -> str:
    import asyncio

    from bot.telegram.progress import StatusMessage

    class Message:  # what Telegram does with an edit: refuse more than 4,096 UTF-16 units
        text = "Checking…"
        shown = "nothing (the edit was refused)"

        async def edit_text(self, text: str) -> None:
            units = len(text.encode("utf-16-le")) // 2
            if units <= 4096:
                self.shown = f"{units} UTF-16 units"

    async def finish() -> str:
        message = Message()
        await StatusMessage(message, 60).finish("Added: " + "😀" * 3000)  # type: ignore[arg-type]
        return f"status shown: {message.shown}"

    return asyncio.run(finish())


def _killed_compaction(folder: Path) -> str:
    import embeddings.index.indexer as indexer
    from embeddings.index.stores import open_store
    from embeddings.models.tiny import TinyEncoder

    data, index = folder / "data", folder / "index"
    for number in range(3):
        _write(data, f"a{number}.txt", f"title Article {number}\n\n{_BODY} Number {number}.\n")
    indexer.build_index([data], open_store(index), TinyEncoder())
    indexer.DELTA_LIMIT = 1
    for number in range(3, 6):
        _write(data, f"a{number}.txt", f"title Article {number}\n\n{_BODY} Number {number}.\n")
    indexer.build_index([data], open_store(index), TinyEncoder())  # then the compaction dies
    again = indexer.build_index([data], open_store(index), TinyEncoder())
    return f"next build: compaction_due={again.compaction_due}"


def _full_disk(folder: Path) -> str:
    if not os.path.exists("/dev/full"):
        return "not replayed: no /dev/full"
    import faiss
    import numpy as np

    from embeddings.errors import IndexWriteError
    from embeddings.index.directory.store import _writing

    index = faiss.IndexFlatIP(64)
    index.add(np.ones((2000, 64), dtype=np.float32))  # past stdio's buffer
    try:
        with _writing(folder / ("long-folder-name-" * 8)):
            faiss.write_index(index, "/dev/full")
    except IndexWriteError as error:
        return f"error ends: …{str(error)[-40:]}"
    return "no error"
