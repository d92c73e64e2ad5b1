"""Hostile article files: bounded in memory and time, skipped by name when they break a
parser, never the end of a build; only safe links cited; reserved names refused."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from embeddings.errors import IndexWriteError, ParseError
from embeddings.index.directory.store import _writing
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.ingest.articles import parse_file, parse_html
from embeddings.ingest.extract import extract_page
from embeddings.ingest.front_matter import MAX_BYTES
from embeddings.ingest.links import page_url, web_url
from embeddings.ingest.sandbox import parse_bounded
from embeddings.ingest.upload import safe_filename, validate_upload
from embeddings.models.tiny import TinyEncoder

from .hostile_files import (
    alias_bomb_markdown,
    deep_json,
    deep_yaml_markdown,
    huge_integer_json,
    run_bounded,
    single_line_article,
)

BODY = "A perfectly readable article about the rivers of the north and their floods."


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- YAML alias bomb


def test_an_alias_bomb_in_front_matter_is_refused_at_once_in_bounded_memory(
    tmp_path: Path,
) -> None:
    bomb = write(tmp_path, "bomb.md", alias_bomb_markdown())
    assert bomb.stat().st_size < 1000
    code = (
        "from pathlib import Path\n"
        "from embeddings.errors import ParseError\n"
        "from embeddings.ingest.articles import parse_file\n"
        f"try:\n    parse_file(Path({str(bomb)!r}))\n"
        "except ParseError as error:\n    print('refused:', error)\n"
    )
    started = time.perf_counter()
    done = run_bounded(code, memory_bytes=2 * 1024**3, seconds=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert "aliases (*name) are not allowed" in done.stdout
    assert time.perf_counter() - started < 30


def test_front_matter_too_long_or_too_deep_is_refused(tmp_path: Path) -> None:
    long = write(tmp_path, "long.md", f"---\ntitle: {'x' * MAX_BYTES}\n---\n\n{BODY}\n")
    with pytest.raises(ParseError, match="front matter is longer than"):
        parse_file(long)
    deep = write(tmp_path, "deep.md", deep_yaml_markdown(depth=5_000))
    with pytest.raises(ParseError, match="nested more than"):
        parse_file(deep)
    anchored = write(tmp_path, "ok.md", f"---\ntitle: &t Rivers\n---\n\n{BODY}\n")
    assert parse_file(anchored).articles[0].title == "Rivers"  # an anchor alone is harmless


def test_an_upload_is_parsed_in_a_child_process_under_a_time_limit(tmp_path: Path) -> None:
    markdown = f"---\ntitle: Rivers\nurl: https://example.org/r\n---\n\n{BODY}\n"
    good = write(tmp_path, "rivers.md", markdown)
    assert parse_bounded(good, "rivers").articles == parse_file(good, "rivers").articles
    with pytest.raises(ParseError, match="took longer than"):
        parse_bounded(good, "rivers", seconds=0.001)
    with pytest.raises(ParseError, match="aliases"):
        validate_upload("bomb.md", alias_bomb_markdown().encode(), tmp_path / "data")


# --------------------------------------------------------------------------- linear chunking


@pytest.mark.timeout(180)  # quadratic, as it was, this took hours
def test_a_five_megabyte_single_line_article_indexes_in_seconds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data, "long.txt", single_line_article(5))
    started = time.perf_counter()
    summary = build_index([data], open_store(tmp_path / "index"), TinyEncoder())
    seconds = time.perf_counter() - started
    assert summary.articles == 1
    assert summary.passages > 5_000
    assert seconds < 120, seconds


# --------------------------------------------------------------------------- one bad file


def test_a_file_that_breaks_a_parser_is_skipped_by_name_and_the_rest_is_indexed(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    write(data, "good.txt", f"title Rivers\n\n{BODY}\n")
    write(data, "number.json", huge_integer_json())
    write(data, "deep.json", deep_json())
    write(data, "deep.md", deep_yaml_markdown())
    write(data, "lines.jsonl", huge_integer_json() + "\n" + deep_json() + "\n"
          + json.dumps({"title": "Bridges", "text": BODY}) + "\n")  # fmt: skip
    summary = build_index([data], open_store(tmp_path / "index"), TinyEncoder())
    assert summary.articles == 2  # good.txt and the last line of lines.jsonl
    problems = "\n".join(summary.problems)
    assert f"{data / 'number.json'}: holds a number with too many digits" in problems
    assert f"{data / 'deep.json'}: nested too deeply to read" in problems
    assert f"{data / 'deep.md'}: front matter is not valid YAML (nested more than" in problems
    assert f"{data / 'lines.jsonl'}: line 1: holds a number with too many digits" in problems
    assert f"{data / 'lines.jsonl'}: line 2: nested too deeply to read" in problems


def test_an_unexpected_parser_failure_is_a_parse_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import embeddings.ingest.articles as articles

    def broken(text: str, article_id: str) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(articles, "parse_plain_text", broken)
    with pytest.raises(ParseError, match=r"could not be read \(KeyError: 'boom'\)"):
        parse_file(write(tmp_path, "a.txt", BODY))


# --------------------------------------------------------------------------- reserved names


@pytest.mark.parametrize(
    "name", ["README.md", "readme.txt", "LICENSE.md", "feeds.txt", "Feeds.TXT", "changelog.md"]
)
def test_uploads_named_as_the_data_folders_own_files_are_refused(name: str) -> None:
    with pytest.raises(ParseError, match="the data folder keeps for itself"):
        safe_filename(name)


# --------------------------------------------------------------------------- links


def test_only_http_links_are_cited() -> None:
    assert web_url("https://example.org/a") == "https://example.org/a"
    for bad in ["javascript:alert(1)", "data:text/html,x", "ftp://example.org/a", "//x.org",
                "https://", "http://exa mple.org", "http://[::1", 42, None]:  # fmt: skip
        assert web_url(bad) is None, bad


def test_a_canonical_link_on_another_host_is_not_trusted() -> None:
    page = "https://news.example.org/story"
    assert page_url("https://evil.example.com/x", page) == page
    same_site = "https://www.news.example.org/story-1"
    assert page_url(same_site, page) == same_site
    assert page_url("/story-1", page) == "https://news.example.org/story-1"
    assert page_url("javascript:alert(1)", page) == page
    assert page_url("javascript:alert(1)", None) is None
    markup = (
        '<html><head><title>Floods</title><link rel="canonical" href="https://evil.example.com/">'
        f"</head><body><article><p>{BODY}</p></article></body></html>"
    )
    assert extract_page(markup, page).url == page
    assert (
        parse_html(markup.replace("https://evil.example.com/", "javascript:x()"), "a").url is None
    )


def test_json_and_markdown_links_that_are_not_http_are_dropped(tmp_path: Path) -> None:
    record = {"title": "Floods", "text": BODY, "url": "javascript:alert(document.cookie)"}
    assert parse_file(write(tmp_path, "a.json", json.dumps(record))).articles[0].url is None
    markdown = f"---\ntitle: Floods\nsource_url: 'data:text/html,<b>x</b>'\n---\n\n{BODY}\n"
    assert parse_file(write(tmp_path, "a.md", markdown)).articles[0].url is None


# --------------------------------------------------------------------------- JSON types, NUL


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", {"a": 1}, "`title` must be text, not an object"),
        ("source", ["x"], "`source` must be text, not a list"),
        ("id", 1e999999, "`id` must be text, not a decimal number"),
        ("id", True, "`id` must be text, not true or false"),
    ],
)
def test_json_fields_of_the_wrong_type_skip_the_record_with_a_reason(
    tmp_path: Path, field: str, value: Any, reason: str
) -> None:
    text = json.dumps({"title": "T", "text": BODY, field: value}).replace("Infinity", "1e999999")
    good = json.dumps({"title": "Good", "text": BODY, "id": 7})
    parsed = parse_file(write(tmp_path, "a.jsonl", f"{text}\n{good}\n"))
    assert parsed.problems == [f"line 1: {reason}"]
    assert [a.id for a in parsed.articles] == ["7"]


def test_nul_characters_anywhere_are_stripped(tmp_path: Path) -> None:
    padding = "Filler words to push the NUL far past the first eight kilobytes. " * 200
    path = tmp_path / "a.txt"
    path.write_text(f"title Rivers\n\n{padding}\n\nThe ri\x00ver rose.\n", encoding="utf-8")
    article = parse_file(path).articles[0]
    assert article.paragraphs[-1] == "The river rose."
    escaped = write(tmp_path, "b.json", json.dumps({"title": "A\x00B", "text": "x\x00y " + BODY}))
    [record] = parse_file(escaped).articles
    assert (record.title, record.paragraphs[0][:2]) == ("AB", "xy")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_faiss_says_no_space_left_on_device(tmp_path: Path) -> None:
    import faiss
    import numpy as np

    index = faiss.IndexFlatIP(64)
    index.add(np.ones((2000, 64), dtype=np.float32))  # past stdio's buffer
    root = tmp_path / ("a-long-folder-name-" * 8)
    with pytest.raises(IndexWriteError) as raised, _writing(root):
        faiss.write_index(index, "/dev/full")
    assert str(raised.value).endswith(os.strerror(errno.ENOSPC))


# --------------------------------------------------------------------------- status messages


class _FakeMessage:
    """The part of a Telegram message a StatusMessage uses; refuses texts over 4,096 UTF-16
    units, as Telegram does."""

    def __init__(self) -> None:
        self.text = "Checking…"
        self.edits: list[str] = []

    async def edit_text(self, text: str) -> None:
        from bot.telegram.api import BadRequest

        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise BadRequest("Message is too long")
        self.edits.append(text)


async def test_a_status_of_emoji_is_clipped_by_utf16_length_and_shown() -> None:
    from bot.telegram.progress import StatusMessage

    message = _FakeMessage()
    status = StatusMessage(message, 60)  # type: ignore[arg-type]
    await status.finish("Added: " + "😀" * 3000)
    [shown] = message.edits
    assert shown.startswith("Added: 😀")
    assert shown.endswith("…")


async def test_a_status_always_ends_even_when_the_job_fails_unexpectedly() -> None:
    from bot.telegram.progress import StatusMessage

    message = _FakeMessage()
    status = StatusMessage(message, 60)  # type: ignore[arg-type]
    async with status.ending("Reindex failed unexpectedly."):
        raise RecursionError("deep")
    assert message.edits == ["Reindex failed unexpectedly."]
