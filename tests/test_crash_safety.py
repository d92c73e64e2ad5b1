"""A build killed at any point, or starved of disk, never leaves a mixed or broken index:
the next reader gets the complete old generation or the complete new one, and the next
build completes. Each build runs in its own process (tests/crash_driver.py) that SIGKILLs
itself at the chosen point."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings import Engine, IndexMissingError, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.models.tiny import TinyEncoder

from .helpers import REPO

TOPICS = [
    ("lighthouse", "Lighthouse keeper retires", "The last keeper of the Cape Orrin lighthouse "
     "retired on Friday after forty years of tending the lamp."),
    ("bakery", "Village bakery wins award", "The Millbrook bakery won the county prize for its "
     "rye bread, baked in a wood-fired oven since 1921."),
    ("tram", "Tram line extended", "The city tram line will reach the airport by spring, the "
     "transport office said, adding six new stops."),
    ("rowing", "Rowing club celebrates", "The rowing club marked its centenary with a regatta "
     "on the lake that drew two hundred crews."),
]  # fmt: skip
ADDED = [
    ("glacier", "Glacier retreat measured", "Scientists measured the Halden glacier retreating "
     "thirty metres this summer, the fastest on record."),
    ("library", "Library opens at night", "The central library will stay open until midnight "
     "for students during the exam season."),
]  # fmt: skip
QUESTIONS = [
    "Who retired from the lighthouse?",
    "Which bakery won the county prize?",
    "How far did the glacier retreat?",
    "When does the library stay open?",
    "Where will the tram line reach?",
]
POINTS = ["encoding", "after-metadata", "after-vectors", "before-switch", "after-switch"]

Answers = list[tuple[str, str] | None]


def write_corpus(folder: Path, articles: list[tuple[str, str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": i, "title": t, "paragraphs": [p]}) for i, t, p in articles]
    (folder / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_files(folder: Path, articles: list[tuple[str, str, str]]) -> Path:
    """One file per article, so that changing one article changes one file."""
    folder.mkdir(parents=True, exist_ok=True)
    for id_, title, text in articles:
        line = json.dumps({"id": id_, "title": title, "paragraphs": [text]})
        (folder / f"{id_}.jsonl").write_text(line + "\n", encoding="utf-8")
    return folder


def answers(index_dir: Path) -> Answers:
    """What a freshly started reader answers: (article, sentence) or None per question."""
    engine = Engine(open_store(index_dir), TinyEncoder())
    found: Answers = []
    for question in QUESTIONS:
        answer = engine.search(question, top=1)
        top = answer.results[0] if answer.results else None
        found.append((top.article_id, top.answer_sentence) if top else None)
    return found


def drive(
    index_dir: Path, data_dir: Path, point: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.crash_driver", str(index_dir), str(data_dir), point, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


def generation_names(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / "generations").iterdir())


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Answers, Answers]:
    """The old index (TOPICS) and the answers of a clean build of the old and new corpus."""
    root = tmp_path_factory.mktemp("crash")
    old_index = root / "old-index"
    build_index([write_corpus(root / "old", TOPICS)], open_store(old_index), TinyEncoder())
    new_index = root / "new-index"
    build_index([write_corpus(root / "new", TOPICS + ADDED)], open_store(new_index), TinyEncoder())
    old, new = answers(old_index), answers(new_index)
    assert old != new  # otherwise "old or new" could not tell a mix apart
    return old_index, old, new


@pytest.mark.parametrize("point", POINTS)
def test_an_update_killed_at_any_point_serves_old_or_new_and_the_rerun_completes(
    old_and_new: tuple[Path, Answers, Answers], tmp_path: Path, point: str
) -> None:
    old_index, old, new = old_and_new
    index = tmp_path / "index"
    shutil.copytree(old_index, index)
    data = write_corpus(tmp_path / "data", TOPICS + ADDED)

    killed = drive(index, data, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    served = answers(index)
    assert served == (new if point == "after-switch" else old)
    # Opening the index cleared what the killed build left: the current generation, and the
    # previous one only when the switch happened.
    assert len(generation_names(index)) == (2 if point == "after-switch" else 1)
    assert not list(index.glob(".CURRENT.*"))

    rerun = drive(index, data, "none")
    assert rerun.returncode == 0, rerun.stderr
    assert answers(index) == new
    assert len(generation_names(index)) <= 2


@pytest.mark.parametrize("point", POINTS)
def test_an_incremental_update_killed_at_any_point_serves_old_or_new_and_the_rerun_completes(
    tmp_path: Path, point: str
) -> None:
    data = write_files(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    old = answers(index)
    write_files(data, ADDED)  # two new files: an update writes them to a delta segment
    (data / "bakery.jsonl").unlink()
    fresh = tmp_path / "fresh"
    build_index([data], open_store(fresh), TinyEncoder())
    new = answers(fresh)
    assert old != new

    killed = drive(index, data, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert answers(index) == (new if point == "after-switch" else old)
    assert len(generation_names(index)) == (2 if point == "after-switch" else 1)

    rerun = drive(index, data, "none")
    assert rerun.returncode == 0, rerun.stderr
    assert answers(index) == new
    current = (index / "CURRENT").read_text().strip()
    manifest = json.loads((index / "generations" / current / "manifest.json").read_text())
    assert manifest["segments"]["delta"][0] == 2  # the update path, not a full rebuild


@pytest.mark.parametrize("point", ["encoding", "before-switch"])
def test_a_first_build_killed_leaves_no_index_and_the_rerun_completes(
    old_and_new: tuple[Path, Answers, Answers], tmp_path: Path, point: str
) -> None:
    _, _, new = old_and_new
    index = tmp_path / "index"
    data = write_corpus(tmp_path / "data", TOPICS + ADDED)
    assert drive(index, data, point).returncode == -signal.SIGKILL
    with pytest.raises(IndexMissingError):
        answers(index)
    assert drive(index, data, "none").returncode == 0
    assert answers(index) == new
    assert len(generation_names(index)) == 1  # the orphan of the killed build is gone


def test_a_full_disk_during_a_build_is_a_clear_error_and_the_old_index_serves(
    old_and_new: tuple[Path, Answers, Answers], tmp_path: Path
) -> None:
    old_index, old, new = old_and_new
    index = tmp_path / "index"
    shutil.copytree(old_index, index)
    before = generation_names(index)
    # Many more articles: the new SQLite file outgrows a 24 kB file size limit.
    bulk = [(f"extra-{i}", f"Extra story {i}", f"Filler paragraph number {i}. " * 20)
            for i in range(40)]  # fmt: skip
    data = write_corpus(tmp_path / "data", TOPICS + ADDED + bulk)

    full = drive(index, data, "none", "--max-file-bytes", "24000")
    assert full.returncode == 1, full.stderr
    message = full.stderr.strip()
    assert message.startswith("error: cannot write the index in ")
    assert message.endswith(("File too large", "disk I/O error"))  # EFBIG, as SQLite says it
    assert len(message.splitlines()) == 1
    assert answers(index) == old
    assert generation_names(index) == before  # the half-written generation was removed

    assert drive(index, data, "none").returncode == 0  # with room again, it completes
    assert answers(index)[:2] == new[:2]


def test_an_update_killed_while_encoding_with_the_real_model_serves_the_old_index(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    data = write_corpus(tmp_path / "data", TOPICS)
    assert drive(index, data, "none", "--real-model").returncode == 0
    question = "Who retired from the lighthouse?"
    before = Engine(open_store(index), encoder).search(question, top=1).results[0].article_id
    write_corpus(data, TOPICS + ADDED)
    killed = drive(index, data, "encoding", "--real-model")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    engine = Engine(open_store(index), encoder)
    assert engine.stats().manifest.articles == len(TOPICS)
    assert engine.search(question, top=1).results[0].article_id == before == "lighthouse"
    assert drive(index, data, "none", "--real-model").returncode == 0
    assert Engine(open_store(index), encoder).stats().manifest.articles == len(TOPICS) + len(ADDED)
