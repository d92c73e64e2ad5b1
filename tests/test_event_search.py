"""Events and occasions in a search: "after <event>" bounded by the event's day found in the
archive (real models: the lookup's confidence is the real calibration's), and the occasion
clause choosing the article while the main clause chooses its paragraph."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from embeddings import Engine, open_store
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.models.tiny import TinyEncoder
from embeddings.models.torch_encoder import SentenceTransformerEncoder
from embeddings.ranking.search import MULTILINGUAL_CALIBRATION, Searcher

_REBUILD = "The city council agreed to rebuild the harbour bridge, paid for by {}."
EVENTS = [
    {"id": "vienna-talks", "title": "Ministers open the Vienna talks on the river treaty",
     "date": "2023-05-12", "source": "Wire",
     "paragraphs": ["Foreign ministers met in Vienna for two days of talks on the river treaty, "
                    "the first such talks in a decade."]},
    {"id": "bridge-2022", "title": "Council votes on the harbour bridge", "date": "2022-03-01",
     "source": "City Gazette", "paragraphs": [_REBUILD.format("the city's own budget")]},
    {"id": "bridge-2024", "title": "Council votes on the harbour bridge", "date": "2024-02-01",
     "source": "City Gazette", "paragraphs": [_REBUILD.format("the new river treaty fund")]},
]  # fmt: skip


def _write(folder: Path, articles: list[dict[str, object]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(json.dumps(article) for article in articles)
    (folder / "articles.jsonl").write_text(lines + "\n", encoding="utf-8")
    return folder


def test_after_an_event_keeps_the_article_after_its_day(
    tmp_path: Path, encoder: SentenceTransformerEncoder, multilingual: MultilingualEncoder
) -> None:
    engine = Engine(open_store(tmp_path / "index"), encoder, multilingual=multilingual)
    engine.build([_write(tmp_path / "data", EVENTS)])
    question = "What did the city council agree about the harbour bridge"
    both = {r.article_id for r in engine.search(f"{question}?", top=5).results}
    assert {"bridge-2022", "bridge-2024"} <= both
    answer = engine.search(f"{question} after the Vienna talks?", top=5)
    assert answer.results[0].article_id == "bridge-2024"
    assert "bridge-2022" not in {r.article_id for r in answer.results}
    assert answer.scope is not None
    assert answer.scope.label == "since 12 May 2023 (the Vienna talks)"
    # An event the archive does not hold bounds nothing: every copy competes again.
    unknown = engine.search(f"{question} after the Lisbon summit?", top=5)
    assert unknown.scope is None
    assert {"bridge-2022", "bridge-2024"} <= {r.article_id for r in unknown.results}


def test_the_event_lookup_keeps_its_own_bar_whatever_the_decline_threshold(
    tmp_path: Path, encoder: SentenceTransformerEncoder, multilingual: MultilingualEncoder
) -> None:
    """A decline threshold refitted to answer more must not let a weak match date an event:
    here one that answers everything still finds no "Lisbon summit" in the archive."""
    Engine(open_store(tmp_path / "index"), encoder, multilingual=multilingual).build(
        [_write(tmp_path / "data", EVENTS)]
    )
    generation = open_store(tmp_path / "index").open_current(encoder.name, encoder.dimension)
    answers_everything = dataclasses.replace(MULTILINGUAL_CALIBRATION, threshold=0.0)
    searcher = Searcher(
        generation, encoder, multilingual=multilingual, calibration=answers_everything
    )
    question = "What did the city council agree about the harbour bridge after the Lisbon summit?"
    unknown = searcher.search(question, top=5)
    assert unknown.answered
    assert unknown.scope is None
    assert {"bridge-2022", "bridge-2024"} <= {r.article_id for r in unknown.results}
    known = searcher.search(question.replace("Lisbon summit", "Vienna talks"), top=5)
    assert known.scope is not None
    assert known.scope.label == "since 12 May 2023 (the Vienna talks)"


MEETING = [
    {"id": "meeting-2021", "title": "Harbour board meets", "date": "2021-06-01",
     "paragraphs": ["The harbour board held its yearly meeting on the pier.",
                    "The ferry captain chaired the board this year, the first captain to do so."]},
    {"id": "meeting-2024", "title": "Harbour board meets", "date": "2024-06-01",
     "paragraphs": ["The harbour board held its yearly meeting in the town hall.",
                    "The mayor chaired the board this year, the first mayor to do so."]},
]  # fmt: skip


def test_the_occasion_picks_the_article_the_main_clause_its_paragraph(tmp_path: Path) -> None:
    engine = Engine(open_store(tmp_path / "index"), TinyEncoder())
    engine.build([_write(tmp_path / "data", MEETING)])
    # The opening paragraph repeats the occasion's words; the answer is the second.
    answer = engine.search(
        "In 2024, when the harbour board held its yearly meeting, who chaired the board?", top=2
    )
    assert [(r.article_id, r.position) for r in answer.results] == [
        ("meeting-2024", 1),
        ("meeting-2024", 0),
    ]
