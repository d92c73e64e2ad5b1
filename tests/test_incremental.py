"""Incremental builds give the same index, and the same answers, as building from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.directory.generation import open_current
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store

from .helpers import write
from .test_indexer import ARTICLES, QUESTIONS, archive


def answers(engine: Engine) -> dict[str, list[tuple[str, int, int, int]]]:
    return {
        question: [
            (r.article_id, r.position, r.answer_start, r.answer_end)
            for r in engine.search(question, top=3).results
        ]
        for question in [*QUESTIONS.values(), "When did the ferry ramp reopen?"]
    }


def test_add_change_delete_match_a_fresh_build(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = archive(tmp_path / "data", ["harbour.txt", "orchard.md", "space.jsonl"])
    index = tmp_path / "index"
    build_index([data], open_store(index), encoder)
    engine = Engine(open_store(index), encoder)
    before = answers(engine)
    assert before[QUESTIONS["space.jsonl"]][0][0] == "telescope-launch"

    archive(data, ["chess.json", "bridge.html"])  # add
    added = build_index([data], open_store(index), encoder)
    # Each is one passage of one sentence, whose model input is the passage's: one text each,
    # not two.
    assert (added.new, added.encoded) == (2, 2)
    after_add = answers(engine)
    assert after_add[QUESTIONS["chess.json"]][0][0] == "chess-final"
    assert after_add[QUESTIONS["bridge.html"]][0][0] == "bridge"
    write(data, "harbour.txt", ARTICLES["harbour.txt"].replace("northern pier", "ferry ramp"))
    build_index([data], open_store(index), encoder)  # change
    (data / "space.jsonl").unlink()  # delete
    build_index([data], open_store(index), encoder)
    final = answers(engine)
    assert final["When did the ferry ramp reopen?"][0][0] == "harbour"
    assert all(hit[0] != "telescope-launch" for hits in final.values() for hit in hits)

    fresh_index = tmp_path / "fresh"
    build_index([data], open_store(fresh_index), encoder)
    assert final == answers(Engine(open_store(fresh_index), encoder))
    kept = open_current(index, encoder.name, encoder.dimension)
    fresh = open_current(fresh_index, encoder.name, encoder.dimension)
    # Row numbers differ (the updates wrote delta segments after the base), the rows do not.
    for table in ("passages", "sentences"):
        sql = f"SELECT digest FROM {table} ORDER BY digest"
        assert kept.query(sql) == fresh.query(sql)
    # Vectors from three generations and two batchings agree with one fresh encoding.
    for table in ("passages", "sentences"):
        rows = [dict(g.query(f"SELECT digest, id FROM {table}")) for g in (kept, fresh)]
        kept_rows, fresh_rows = (np.array([r[d] for d in sorted(rows[1])]) for r in rows)
        kept_matrix, fresh_matrix = (getattr(g, table).matrix for g in (kept, fresh))
        np.testing.assert_allclose(kept_matrix[kept_rows], fresh_matrix[fresh_rows], atol=1e-4)
