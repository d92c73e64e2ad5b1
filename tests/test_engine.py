"""Adding an uploaded file: validated, saved, indexed, or rejected with nothing left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings import Engine, ParseError, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.ingest.upload import safe_filename

from .helpers import write

FERRY = json.dumps(
    {
        "id": "ferry-strike",
        "title": "Ferry crews strike over pay",
        "date": "2024-07-04",
        "paragraphs": ["Ferry crews on the island routes walked out over pay on Thursday, "
                       "stranding hundreds of holidaymakers at the harbour."],
    }
)  # fmt: skip


@pytest.fixture
def engine(encoder: SentenceTransformerEncoder, tmp_path: Path) -> Engine:
    write(tmp_path / "data", "a.txt", "title Bakery opens\n\nA new bakery opened on the square "
          "selling bread and cakes to the town.\n")  # fmt: skip
    build_index([tmp_path / "data"], open_store(tmp_path / "index"), encoder)
    return Engine(open_store(tmp_path / "index"), encoder)


def test_an_uploaded_file_is_saved_and_found(engine: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"
    articles, summary = engine.add_file(data, "ferry.jsonl", FERRY.encode())
    assert [a.id for a in articles] == ["ferry-strike"]
    assert (summary.new, summary.articles) == (1, 2)
    assert (data / "ferry.jsonl").read_text() == FERRY
    top = engine.search("Why did the ferry crews walk out?").results[0]
    assert top.article_id == "ferry-strike"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.pdf", b"%PDF", "not a file type newsdesk reads"),
        ("bad.jsonl", FERRY.encode() + b"\n{broken\n", "line 2: invalid JSON"),
        ("empty.md", b"---\ntitle: T\n---\n", "no paragraphs"),
        ("a.txt", b"\xff\xfe\x00binary", "binary file"),
    ],
)
def test_a_rejected_upload_leaves_nothing_behind(
    engine: Engine, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    data = tmp_path / "data"
    before = sorted(p.name for p in data.iterdir())
    generation = engine.stats().generation
    with pytest.raises(ParseError, match=reason):
        engine.add_file(data, name, content)
    assert sorted(p.name for p in data.iterdir()) == before
    assert engine.stats().generation == generation


def test_an_upload_may_not_take_over_another_files_article_id(
    engine: Engine, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    engine.add_file(data, "ferry.jsonl", FERRY.encode())
    with pytest.raises(ParseError, match="already used by"):
        engine.add_file(data, "copy.jsonl", FERRY.encode())
    assert not (data / "copy.jsonl").exists()
    # Sending the same file name again replaces it (an update, not a takeover).
    engine.add_file(data, "ferry.jsonl", FERRY.replace("Thursday", "Friday").encode())
    assert "Friday" in engine.search("When did ferry crews walk out?").results[0].text


def test_a_failed_index_after_saving_restores_the_folder(engine: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"

    def fail(step: object) -> None:
        if getattr(step, "stage", "") == "writing":
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        engine.add_file(data, "ferry.jsonl", FERRY.encode(), fail)
    assert not (data / "ferry.jsonl").exists()
    assert engine.stats().manifest.articles == 1


@pytest.mark.parametrize(
    ("given", "safe"),
    [("../../etc/passwd.txt", "passwd.txt"), ("a b/c?.md", "c_.md"), ("x.JSONL", "x.JSONL")],
)
def test_upload_names_are_reduced_to_a_plain_file_name(given: str, safe: str) -> None:
    assert safe_filename(given) == safe


def test_upload_names_without_a_supported_suffix_are_refused() -> None:
    with pytest.raises(ParseError):
        safe_filename(".txt")
    with pytest.raises(ParseError):
        safe_filename("archive.zip")
