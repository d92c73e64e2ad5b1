"""An update writes only a delta segment over the previous generation's hard-linked base, and
answers exactly as a full build of the same files: same results, scores, BM25 and counts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import embeddings.index.indexer
from embeddings import Engine
from embeddings.index.directory.generation import open_current
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.indexer import build_index, compact_index
from embeddings.index.lexical import tokenize
from embeddings.index.stores import open_store
from embeddings.models.tiny import TinyEncoder

from .test_crash_safety import ADDED, QUESTIONS, TOPICS
from .test_crash_safety import write_files as write_articles

CHANGED = ("lighthouse", "Lighthouse keeper retires", "The last keeper of the Cape Orrin "
           "lighthouse handed the keys to the coast guard on Monday.")  # fmt: skip
ASKED = [*QUESTIONS, "Who got the keys of the lighthouse?", "Which prize did the rye bread win?"]


def snapshot(index: Path) -> tuple[list[Any], list[float]]:
    """Everything a reader sees: ranked results with scores, confidence, BM25 of every live
    passage (by article and position), and the counts; numbers apart (candidates come in
    another row order, so sums can differ in the last bits)."""
    engine = Engine(open_store(index), TinyEncoder())
    generation = engine._current().generation
    positions = {
        int(i): (str(a), int(p))
        for i, a, p in generation.query("SELECT id, article_id, position FROM passages")
    }
    seen: list[Any] = []
    numbers: list[float] = []
    for question in ASKED:
        answer = engine.search(question, top=3)
        bm25 = generation.lexical.scores(tokenize(question))
        lexical = sorted((positions[int(i)], float(s)) for i, s in enumerate(bm25) if s)
        seen.append(
            (
                answer.answered,
                [(r.article_id, r.position, r.answer_start, r.answer_end) for r in answer.results],
                [k for k, _ in lexical],
            )
        )
        numbers += [answer.confidence, *(r.score for r in answer.results)]
        numbers += [s for _, s in lexical]
    manifest = generation.manifest
    seen.append((manifest.articles, manifest.count, manifest.sentences))
    return seen, numbers


def same(a: tuple[list[Any], list[float]], b: tuple[list[Any], list[float]]) -> bool:
    return a[0] == b[0] and a[1] == pytest.approx(b[1], rel=1e-5, abs=1e-6)


def fresh(tmp_path: Path, data: Path) -> tuple[list[Any], list[float]]:
    index = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
    build_index([data], open_store(index), TinyEncoder())
    return snapshot(index)


def generation(index: Path) -> Path:
    path = IndexDirectory(index).current()
    assert path is not None
    return path


def test_add_change_delete_write_a_delta_and_answer_as_a_full_build(tmp_path: Path) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    first = generation(index)
    assert json.loads((first / "manifest.json").read_text())["segments"]["delta"] == [0, 0]

    write_articles(data, ADDED)
    added = build_index([data], open_store(index), TinyEncoder())
    assert (added.new, added.changed, added.removed, added.unchanged) == (2, 0, 0, 4)
    second = generation(index)
    # The base is the first generation's, linked, not written again.
    assert (second / "base/passages.faiss").stat().st_ino == (
        first / "base/passages.faiss"
    ).stat().st_ino
    assert json.loads((second / "manifest.json").read_text())["segments"]["delta"][0] == 2
    assert same(snapshot(index), fresh(tmp_path, data))

    write_articles(data, [CHANGED])
    (data / "bakery.jsonl").unlink()
    (data / "glacier.jsonl").unlink()  # in the delta already: dropped from it
    updated = build_index([data], open_store(index), TinyEncoder())
    assert (updated.new, updated.changed, updated.removed) == (0, 1, 2)
    after = snapshot(index)
    assert same(after, fresh(tmp_path, data))
    assert after[0][-1][0] == 4
    engine = Engine(open_store(index), TinyEncoder())
    assert engine.article("bakery") is None
    assert engine.search("Who got the keys of the lighthouse?").results[0].text == CHANGED[2]
    assert all(r.article_id not in ("bakery", "glacier")
               for q in ASKED for r in engine.search(q, top=5).results)  # fmt: skip


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    before = generation(index)
    again = build_index([data], open_store(index), TinyEncoder())
    assert (again.unchanged, again.encoded, again.new) == (4, 0, 0)
    assert generation(index) == before


def test_an_index_cut_by_another_chunking_version_is_rebuilt_whole_reusing_its_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update in place reads only changed files; after a change to how passages are cut,
    every article is cut again (and every unchanged text keeps its vector)."""
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    before = generation(index)
    version = embeddings.index.indexer.CHUNKING_VERSION
    monkeypatch.setattr(embeddings.index.indexer, "CHUNKING_VERSION", version + 1)
    again = build_index([data], open_store(index), TinyEncoder())
    assert generation(index) != before
    assert (again.encoded, again.articles) == (0, 4)
    assert again.reused > 0
    engine = Engine(open_store(index), TinyEncoder())
    assert engine._current().generation.manifest.chunking == version + 1
    assert same(snapshot(index), fresh(tmp_path, data))
    # Cut by this version now: the next update is in place again, and writes nothing.
    assert build_index([data], open_store(index), TinyEncoder()).unchanged == 4


def test_a_touched_file_with_the_same_articles_keeps_the_base(tmp_path: Path) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    before = snapshot(index)
    os.utime(data / "tram.jsonl", ns=(1, 1))  # another time, the same text
    summary = build_index([data], open_store(index), TinyEncoder())
    assert (summary.changed, summary.encoded) == (0, 0)
    assert json.loads((generation(index) / "manifest.json").read_text())["segments"]["delta"] == [
        0,
        0,
    ]
    assert same(snapshot(index), before)


def test_past_the_delta_limit_the_update_answers_at_once_and_compaction_folds_it_into_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    write_articles(data, ADDED[:1])
    assert not build_index(
        [data], open_store(index), TinyEncoder()
    ).compaction_due  # a delta of one
    monkeypatch.setattr(embeddings.index.indexer, "DELTA_LIMIT", 1)
    write_articles(data, ADDED[1:])
    update = build_index([data], open_store(index), TinyEncoder())
    assert update.compaction_due
    assert update.new == 1
    manifest = json.loads((generation(index) / "manifest.json").read_text())
    assert manifest["segments"]["delta"][0] == 2  # served from the delta until compacted
    assert same(snapshot(index), fresh(tmp_path, data))
    compacted = compact_index([data], open_store(index), TinyEncoder())
    assert (compacted.encoded, compacted.new, compacted.compaction_due) == (0, 0, False)
    manifest = json.loads((generation(index) / "manifest.json").read_text())
    assert manifest["segments"] == {"base": [6, manifest["sentences"]], "delta": [0, 0]}
    assert same(snapshot(index), fresh(tmp_path, data))


def test_a_change_larger_than_the_base_and_the_limit_is_built_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_articles(tmp_path / "data", TOPICS[:1])
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    monkeypatch.setattr(embeddings.index.indexer, "DELTA_LIMIT", 1)
    write_articles(data, TOPICS[1:])
    summary = build_index([data], open_store(index), TinyEncoder())
    assert not summary.compaction_due
    manifest = json.loads((generation(index) / "manifest.json").read_text())
    assert manifest["segments"]["delta"] == [0, 0]
    assert same(snapshot(index), fresh(tmp_path, data))


def test_an_id_claimed_by_two_files_is_resolved_as_a_full_build_would(tmp_path: Path) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    line = json.dumps({"id": "tram", "title": "Tram again", "paragraphs": ["A second tram."]})
    (data / "another.jsonl").write_text(line + "\n", encoding="utf-8")
    summary = build_index([data], open_store(index), TinyEncoder())
    assert any("already taken" in problem for problem in summary.problems)
    assert same(snapshot(index), fresh(tmp_path, data))


def test_the_loaded_base_is_shared_by_the_next_generation(tmp_path: Path) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    engine = Engine(open_store(index), TinyEncoder())
    before = engine._current().generation
    write_articles(data, ADDED[:1])
    engine.build([data])
    after = engine._current().generation
    assert after is not before
    assert after.base is before.base  # read once, not once per update
    assert open_current(index, TinyEncoder.name, TinyEncoder.dimension).base is before.base


def test_a_compaction_killed_before_its_switch_is_asked_for_again_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_articles(tmp_path / "data", TOPICS)
    index = tmp_path / "index"
    build_index([data], open_store(index), TinyEncoder())
    monkeypatch.setattr(embeddings.index.indexer, "DELTA_LIMIT", 1)
    write_articles(data, ADDED)
    assert build_index([data], open_store(index), TinyEncoder()).compaction_due
    # The compaction that should follow never switched (killed): nothing changed since, yet
    # the delta is still past the limit, so the next build asks for it again.
    again = build_index([data], open_store(index), TinyEncoder())
    assert (again.new, again.changed, again.compaction_due) == (0, 0, True)
    compact_index([data], open_store(index), TinyEncoder())
    assert not build_index([data], open_store(index), TinyEncoder()).compaction_due
