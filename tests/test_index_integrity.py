"""Every file of a generation is checksummed in its manifest and verified when it is opened:
a damaged index is refused with one clear line, the bot will not start on it, and
`newsdesk index` rebuilds it. What a crashed build leaves behind is removed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import embeddings.index.directory.checksums
from bot.cli.commands import main
from embeddings import (
    Engine,
    IndexCorruptError,
    IndexIncompatibleError,
    SentenceTransformerEncoder,
)
from embeddings.index.directory.checksums import RACY_NS, file_checksum
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.models.tiny import TinyEncoder

from .test_crash_safety import TOPICS, write_corpus, write_files


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    """Damage in the middle of the file that keeps its size and, for SQLite, often its
    readability: only the checksum can tell."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(data dir, index dir, current generation) of a small index (tiny encoder)."""
    data = write_corpus(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    generation = IndexDirectory(index).current()
    assert generation is not None
    return data, index, generation


def test_the_manifest_holds_a_checksum_of_every_other_file(
    built: tuple[Path, Path, Path],
) -> None:
    _, _, generation = built
    manifest = json.loads((generation / "manifest.json").read_text())
    files = {p.relative_to(generation).as_posix() for p in generation.rglob("*") if p.is_file()}
    assert set(manifest["checksums"]) == files - {"manifest.json"}
    for segment in ("base", "delta"):
        expected = {f"{segment}/{name}" for name in ("passages.sqlite", "passages.faiss",
                                                      "sentences.faiss")}  # fmt: skip
        assert expected <= set(manifest["checksums"])
    assert "files.json" in manifest["checksums"]
    assert all(
        manifest["checksums"][n] == file_checksum(generation / n) for n in files - {"manifest.json"}
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda g: truncate(g / "base/passages.faiss"), "base/passages.faiss is damaged"),
        (lambda g: truncate(g / "base/sentences.faiss"), "sentences.faiss is damaged"),
        (lambda g: flip_a_byte(g / "base/passages.sqlite"), "passages.sqlite is damaged"),
        (lambda g: (g / "base/passages.sqlite").unlink(), "passages.sqlite is missing"),
        (lambda g: flip_a_byte(next((g / "base/bm25").iterdir())), r"bm25/\S+ is damaged"),
        (lambda g: flip_a_byte(g / "delta/passages.sqlite"), "delta/passages.sqlite is damaged"),
        (lambda g: truncate(g / "files.json"), "files.json is damaged"),
    ],
)  # fmt: skip
def test_a_damaged_file_is_detected_at_load_with_a_clear_message_and_a_rebuild_repairs_it(
    built: tuple[Path, Path, Path], damage: Callable[[Path], None], message: str
) -> None:
    data, index, generation = built
    question = "Who retired from the lighthouse?"
    before = Engine(open_store(index), TinyEncoder()).search(question, top=1).results[0].article_id
    damage(generation)
    with pytest.raises(IndexCorruptError, match=message) as error:
        Engine(open_store(index), TinyEncoder()).search(question)
    assert "Rebuild it with `newsdesk index`" in str(error.value)
    assert len(str(error.value).splitlines()) == 1
    build_index([data], open_store(index), TinyEncoder())
    assert (
        Engine(open_store(index), TinyEncoder()).search(question, top=1).results[0].article_id
        == before
    )


def restamp(generation: Path, after_newest_file_ns: int) -> None:
    """Set the manifest's stamp time relative to its newest file's modification time, as a
    build whose last write came that long before the stamps were taken."""
    path = generation / "manifest.json"
    manifest = json.loads(path.read_text())
    newest = max(stamp[1] for stamp in manifest["stamps"].values())
    manifest["stamped_ns"] = newest + after_newest_file_ns
    path.write_text(json.dumps(manifest))


def checksums_taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    taken: list[str] = []

    def counting(path: Path) -> str:
        taken.append(path.name)
        return file_checksum(path)

    monkeypatch.setattr(embeddings.index.directory.checksums, "file_checksum", counting)
    return taken


def test_files_that_still_match_their_stamps_are_not_read_again_at_load(
    built: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, index, generation = built
    restamp(generation, 2 * RACY_NS)
    taken = checksums_taken(monkeypatch)
    assert (
        Engine(open_store(index), TinyEncoder()).search("Who retired from the lighthouse?").results
    )
    assert taken == []


def test_a_file_written_after_its_stamp_is_read_again_and_found_damaged(
    built: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, index, generation = built
    restamp(generation, 2 * RACY_NS)
    target = generation / "base/sentences.faiss"
    written = target.stat().st_mtime_ns
    flip_a_byte(target)
    os.utime(target, ns=(written + RACY_NS, written + RACY_NS))  # a later write, whatever the clock
    taken = checksums_taken(monkeypatch)
    with pytest.raises(IndexCorruptError, match=r"base/sentences\.faiss is damaged"):
        Engine(open_store(index), TinyEncoder()).load()
    assert taken == ["sentences.faiss"]


def test_a_base_damaged_under_a_running_engine_is_caught_after_an_update_links_it(
    built: tuple[Path, Path, Path],
) -> None:
    """An update hard-links the base its process holds in memory without reading it again;
    the new manifest must not vouch for what the file holds now."""
    data, index, generation = built
    restamp(generation, 2 * RACY_NS)
    engine = Engine(open_store(index), TinyEncoder())
    engine.load()  # the base is in memory now: the update below does not read it
    target = generation / "base/sentences.faiss"
    written = target.stat().st_mtime_ns
    flip_a_byte(target)
    earlier = written - 5 * RACY_NS  # another time, and one a fresh stamp would trust
    os.utime(target, ns=(earlier, earlier))
    write_files(data, [("ferry", "Ferry strike ends", "The ferry strike ended on Monday.")])
    assert engine.build([data]).new == 1  # an update: the damaged base is linked, not read
    del engine
    with pytest.raises(IndexCorruptError, match=r"base/sentences\.faiss is damaged"):
        Engine(open_store(index), TinyEncoder()).load()


def test_a_stamp_taken_within_a_timestamp_tick_of_a_write_is_not_trusted(
    built: tuple[Path, Path, Path],
) -> None:
    """A write in the same clock tick as the stamp leaves size, time and inode unchanged:
    only the checksum can tell, so such recent files are always read."""
    _, index, generation = built
    restamp(generation, RACY_NS // 2)
    target = generation / "base/passages.sqlite"
    before = target.stat()
    flip_a_byte(target)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick
    with pytest.raises(IndexCorruptError, match=r"base/passages\.sqlite is damaged"):
        Engine(open_store(index), TinyEncoder()).load()


def test_a_generation_written_before_rows_npz_existed_loads_from_sqlite(
    built: tuple[Path, Path, Path],
) -> None:
    _, index, generation = built
    question = "Who retired from the lighthouse?"
    before = Engine(open_store(index), TinyEncoder()).search(question, top=3)
    path = generation / "manifest.json"
    manifest = json.loads(path.read_text())
    for segment in ("base", "delta"):
        (generation / segment / "rows.npz").unlink()
        del manifest["checksums"][f"{segment}/rows.npz"], manifest["stamps"][f"{segment}/rows.npz"]
    path.write_text(json.dumps(manifest))
    after = Engine(open_store(index), TinyEncoder()).search(question, top=3)
    assert after.results == before.results


def test_an_index_of_another_model_is_refused_before_its_files_are_read(
    built: tuple[Path, Path, Path],
) -> None:
    _, index, _ = built

    class Other(TinyEncoder):
        name = "tests/another-encoder"

    with pytest.raises(IndexIncompatibleError, match="built with tests/tiny-hashing-encoder"):
        Engine(open_store(index), Other()).load()


def test_opening_an_index_removes_what_a_crashed_build_left_but_not_a_running_build(
    built: tuple[Path, Path, Path],
) -> None:
    _, index, generation = built
    directory = IndexDirectory(index)
    partial = index / "generations" / "29990101T000000000000-partial"
    partial.mkdir()
    (partial / "passages.sqlite").write_bytes(b"half")
    (index / ".CURRENT.deadbeef.tmp").write_text("x")
    with directory.build_lock():  # a build in another process is writing `partial`
        Engine(open_store(index), TinyEncoder()).load()
        assert partial.exists()
    Engine(open_store(index), TinyEncoder()).load()
    assert not partial.exists()
    assert not (index / ".CURRENT.deadbeef.tmp").exists()
    assert [p.name for p in (index / "generations").iterdir()] == [generation.name]


def test_the_bot_refuses_to_start_on_a_damaged_index_and_newsdesk_index_rebuilds_it(
    encoder: SentenceTransformerEncoder,
    loaded_models: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = write_corpus(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), encoder)
    generation = IndexDirectory(index).current()
    assert generation is not None
    truncate(generation / "base/passages.faiss")
    monkeypatch.setenv("NEWSDESK_TELEGRAM_TOKEN", "123456:NEVER-USED")
    monkeypatch.setenv("NEWSDESK_TELEGRAM_API_URL", "http://127.0.0.1:9")  # never reached
    # Telegram is outside our walls: its getMe check passes here, so the index is what fails.
    monkeypatch.setattr("bot.telegram.app.check_bot_api", lambda token, url: None)
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(index))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(data))
    monkeypatch.setenv("NEWSDESK_STATE_DB", str(tmp_path / "bot.sqlite"))
    capsys.readouterr()

    assert main(["serve"]) == 1
    refused = capsys.readouterr().err.strip().splitlines()[-1]
    assert refused.startswith("error: cannot use the index in ")
    assert "passages.faiss is damaged" in refused
    assert "newsdesk index" in refused
    assert "NEVER-USED" not in refused

    assert main(["index"]) == 0
    assert "Indexed 4 articles" in capsys.readouterr().out
    assert main(["ask", "Who retired from the lighthouse?", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["article_id"] == "lighthouse"
