"""Evaluation measures like the product: paragraphs grouped back into articles, passages
mapped to the paragraphs they hold, and the marked sentence checked against answer spans."""

from __future__ import annotations

import json
from pathlib import Path

from embeddings.ranking.evaluate import holds_span, load_beir
from embeddings.ranking.metrics import metrics


def test_paragraph_entries_become_articles_and_passages_map_back(tmp_path: Path) -> None:
    rows = [
        {"_id": "call#1", "title": "Call", "text": "Q Did it come up?"},
        {"_id": "call#0", "title": "Call", "text": "MODERATOR: Welcome to the call."},
        {"_id": "squad-7", "title": "Rivers", "text": "The river flooded in spring."},
        {"_id": "call#2", "title": "Call", "text": "OFFICIAL: It did. Both saw a pause in talks."},
    ]  # fmt: skip
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "?", "kind": "said"}))
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq\tcall#2\t1\n")
    (tmp_path / "answer_spans.json").write_text(json.dumps({"q": ["a pause in talks"]}))
    data = load_beir(tmp_path)
    call, squad = data.corpus
    assert call.id == "call"
    assert call.title == "Call"
    assert call.paragraphs[0].startswith("MODERATOR")
    assert call.paragraphs[2].startswith("OFFICIAL")
    assert squad.id == "squad-7"
    assert data.kinds == {"q": "said"}
    # A passage holding two paragraphs, a piece of one, and a SQuAD entry.
    assert data.corpus_ids("call", "Q Did it come up?\nOFFICIAL: It did. Both saw "
                                  "a pause in talks.") == {"call#1", "call#2"}  # fmt: skip
    assert data.corpus_ids("call", "Both saw a pause in talks.") == {"call#2"}
    assert data.corpus_ids("squad-7", "The river flooded in spring.") == {"squad-7"}
    ranked = [[frozenset({"call#0"}), frozenset({"call#1", "call#2"})]]
    assert metrics(ranked, [data.qrels["q"]])["hit@1"] == 0.0
    assert metrics(ranked, [data.qrels["q"]])["hit@5"] == 1.0


def test_the_marked_sentence_holds_a_span_whatever_the_quotes_and_case() -> None:
    span = "We're not seeking to link that to anything else."
    assert holds_span("“We’re NOT seeking to link that to anything else,” he said.", [span])
    assert not holds_span("We are seeking talks.", [span])
    # A span of several sentences: one of them, marked, holds the answer.
    assert holds_span(
        "We did that through attribution.", ["We did that through attribution. And more."]
    )
    assert not holds_span("Yes.", ["Yes. No."])
