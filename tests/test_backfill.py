"""Adding the multilingual vectors in the background without holding up updates, and stopping
builds between batches (embeddings.index.backfill, embeddings.index.stopping)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.cli.commands import main
from embeddings import BuildStoppedError, Engine, MultilingualPendingError, open_store
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.indexer import build_index
from embeddings.models.multilingual import NAME as MULTILINGUAL_NAME
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.models.tiny import TinyEncoder
from embeddings.models.torch_encoder import SentenceTransformerEncoder

from .helpers import DATA, SlowMultilingual, write

RUSSIAN = "Что сказал министр о мосте через реку?"
NEW_ARTICLE = (
    "# Harbour bridge reopens\n\n"
    "The harbour bridge reopened on Monday after a tugboat struck one of its pillars.\n\n"
    "Engineers said the pillar held and traffic now flows in both directions.\n"
)


def current_manifest(index: Path) -> dict[str, object]:
    generation = IndexDirectory(index).current()
    assert generation is not None
    manifest: dict[str, object] = json.loads((generation / "manifest.json").read_text())
    return manifest


def english_only(tmp_path: Path, multilingual: object) -> tuple[Engine, Path]:
    """An index built English-only, served by an engine configured for both models."""
    data = tmp_path / "data"
    for n in range(12):
        write(data, f"story{n}.md", f"# Story {n}\n\nCouncil meeting {n} discussed roads.\n")
    build_index([data], open_store(tmp_path / "index"), TinyEncoder())
    engine = Engine(open_store(tmp_path / "index"), TinyEncoder(), multilingual=multilingual)  # type: ignore[arg-type]
    return engine, data


def test_an_update_during_a_backfill_is_answerable_at_once(tmp_path: Path) -> None:
    model = SlowMultilingual(seconds=0.3)  # 24+ inputs: the backfill takes seconds
    engine, data = english_only(tmp_path, model)
    assert engine.backfill_due()
    backfill = threading.Thread(target=engine.prepare_backfill, args=([data],))
    backfill.start()
    assert model.started.wait(10)
    write(data, "bridge.md", NEW_ARTICLE)
    started = time.perf_counter()
    summary = engine.build([data])  # an upload or a feed poll while the backfill encodes
    took = time.perf_counter() - started
    calls_during_build = list(model.calls)
    answer = engine.search("When did the harbour bridge reopen?")
    assert backfill.is_alive(), "the update did not wait for the backfill"
    assert took < 2.0
    assert summary.new == 1
    assert answer.results[0].title == "Harbour bridge reopens"
    assert len(model.calls) == len(calls_during_build)  # the update encoded English only
    with pytest.raises(MultilingualPendingError, match=r"still being prepared \(\d+%\)"):
        engine.search(RUSSIAN)
    backfill.join(60)
    done = engine.finish_backfill([data])
    assert not engine.backfill_due()
    assert engine.reads_other_languages()
    # Only the article added meanwhile was encoded for the multilingual model at the end.
    assert 0 < done.encoded <= 6
    assert engine.search(RUSSIAN).results  # now read by the multilingual model


def test_a_stopped_backfill_keeps_the_english_index_serving(tmp_path: Path) -> None:
    model = SlowMultilingual(seconds=0.05)
    engine, data = english_only(tmp_path, model)
    token = engine.store.token()
    engine.stop.set("SIGTERM")
    with pytest.raises(BuildStoppedError, match="stopped by SIGTERM"):
        engine.prepare_backfill([data])
    assert engine.store.token() == token
    assert engine.backfill_due()
    with pytest.raises(MultilingualPendingError, match="run `newsdesk index`"):
        engine.search(RUSSIAN)


def test_stop_ends_a_build_at_the_next_batch_and_the_previous_generation_serves(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    write(data, "a.md", "# Before\n\nThe old generation answers this.\n")
    engine = Engine(open_store(tmp_path / "index"), TinyEncoder(slow_seconds=0.05))
    engine.build([data])
    token = engine.store.token()
    for n in range(200):  # 10+ s of encoding
        write(data, f"new{n}.md", f"# New {n}\n\nFresh text number {n} here.\n")
    errors: list[BaseException] = []

    def build() -> None:
        try:
            engine.build([data])
        except BuildStoppedError as error:
            errors.append(error)

    thread = threading.Thread(target=build)
    thread.start()
    time.sleep(1.0)
    stopped = time.perf_counter()
    engine.stop.set("SIGTERM")
    thread.join(10)
    assert not thread.is_alive()
    assert time.perf_counter() - stopped < 1.0
    assert errors
    assert "previous index is still serving" in str(errors[0])
    assert engine.store.token() == token
    assert engine.search("old generation").results[0].title == "Before"


def test_an_upload_during_a_real_backfill_is_answerable_at_once(
    encoder: SentenceTransformerEncoder, multilingual: MultilingualEncoder, tmp_path: Path
) -> None:
    """Through the real pipeline: MiniLM index, multilingual-e5 backfill, an upload."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "000_ce1b1adc1bd8e6a9.txt", data)
    build_index([data], open_store(tmp_path / "index"), encoder)
    engine = Engine(open_store(tmp_path / "index"), encoder, multilingual=multilingual)
    backfill = threading.Thread(target=engine.prepare_backfill, args=([data],))
    backfill.start()
    while engine.backfill_percent() == 0 and backfill.is_alive():
        time.sleep(0.05)
    started = time.perf_counter()
    articles, _ = engine.add_file(data, "bridge.md", NEW_ARTICLE.encode())
    answer = engine.search("When did the harbour bridge reopen?")
    took = time.perf_counter() - started
    print(f"\nupload during a multilingual backfill answerable after {took:.2f} s")
    assert articles[0].title == "Harbour bridge reopens"
    assert answer.answered
    assert answer.results[0].title == "Harbour bridge reopens"
    assert took < 10.0
    backfill.join(600)
    engine.finish_backfill([data])
    assert engine.reads_other_languages()
    assert engine.search("Когда снова открыли мост в гавани?").results[0].title == (
        "Harbour bridge reopens"
    )


def test_the_first_ask_builds_both_models_so_no_second_build_follows(
    tmp_path: Path, loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "news", "a.md", NEW_ARTICLE)
    code = main(["ask", "When did the harbour bridge reopen?", "--data-dir",
                 str(tmp_path / "news"), "--index-dir", str(tmp_path / "idx")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert current_manifest(tmp_path / "idx")["multilingual"] == MULTILINGUAL_NAME


def test_sigterm_stops_newsdesk_index_at_the_next_batch_with_the_old_index_serving(
    tmp_path: Path, encoder: SentenceTransformerEncoder
) -> None:
    data = tmp_path / "data"
    write(data, "a.md", NEW_ARTICLE)
    store = open_store(tmp_path / "index")
    build_index([data], store, encoder)
    token = store.token()
    shutil.copy(DATA / "news-sample.jsonl", data)  # thousands of passages: minutes to encode
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data), "NEWSDESK_MULTILINGUAL": "false",
           "NEWSDESK_INDEX_DIR": str(tmp_path / "index")}  # fmt: skip
    script = Path(sys.executable).parent / "newsdesk"
    process = subprocess.Popen(
        [str(script), "index"], env=env, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 180
    while "Encoding passages" not in seen and time.monotonic() < deadline:
        seen += process.stderr.read(1)  # tqdm's bar ends lines with \r, not \n
    assert "Encoding passages" in seen, seen
    signalled = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        rest = process.communicate(timeout=30)[1]
    finally:
        process.kill()
    took = time.perf_counter() - signalled
    print(f"\nSIGTERM during `newsdesk index`: exited after {took:.1f} s")
    assert process.returncode == 1
    # One encoder chunk (64 texts, the longest first) at most: about 2 s on an idle 2-core
    # machine, more under load; the whole build would take minutes.
    assert took < 30.0
    assert "error: indexing stopped by SIGTERM before it finished; the previous index is " \
        "still serving" in rest  # fmt: skip
    assert store.token() == token


def test_index_updates_first_then_adds_the_missing_multilingual_vectors(
    tmp_path: Path,
    encoder: SentenceTransformerEncoder,
    loaded_models: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, index = tmp_path / "news", tmp_path / "idx"
    write(folder, "a.md", "# Rivers\n\nA readable article about rivers and their floods.\n")
    build_index([folder], open_store(index), encoder)  # English only, as an older newsdesk did
    write(folder, "bridge.md", NEW_ARTICLE)
    assert main(["index", str(folder), "--index-dir", str(index)]) == 0
    captured = capsys.readouterr()
    assert "1 new" in captured.out
    assert "Adding the multilingual vectors" in captured.err
    assert "Encoding multilingual vectors" in captured.err  # its own progress bar
    assert "Added them in" in captured.out
    assert current_manifest(index)["multilingual"] == MULTILINGUAL_NAME
