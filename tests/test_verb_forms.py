"""Irregular past forms in BM25: "Who did Wang Yi meet?" is answered by "Wang Yi met …"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings import Engine, open_store
from embeddings.index.lexical import LexicalIndex, tokenize, with_verb_forms
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.models.torch_encoder import SentenceTransformerEncoder
from embeddings.ranking import search
from embeddings.text.verb_forms import asks_in_past, verb_groups


@pytest.mark.parametrize(
    ("question", "past"),
    [
        ("Who did Wang Yi meet on Tuesday?", True),
        ("Didn't the minister find the report useful?", True),
        ("DID THEY WIN?", True),
        ("Was Washington prepared to give Beijing something?", False),
        ("Who met Wang Yi?", False),
        ("What did-you-know facts are there?", True),
        ("Which candidate is dido's favourite?", False),
    ],
)
def test_a_question_asks_in_the_past_with_did(question: str, past: bool) -> None:
    assert asks_in_past(question) is past


def test_the_past_forms_of_a_questions_irregular_verbs_are_added_once() -> None:
    assert with_verb_forms(tokenize("Who did Wang Yi meet?")) == ["wang", "yi", "meet", "met"]
    assert with_verb_forms(tokenize("Did they meet and meet again?"))[-1:] == ["met"]
    # A past form already there, and regular verbs, add nothing.
    assert with_verb_forms(tokenize("Did they meet? They met.")) == ["meet", "met"]
    assert with_verb_forms(tokenize("Did they visit Paris?")) == ["visit", "pari"]
    taken = with_verb_forms(tokenize("Which town did the army take?"))
    assert taken == ["town", "armi", "take", "took", "taken"]


def test_no_form_belongs_to_two_verbs() -> None:
    forms = [form for group in verb_groups() for form in group]
    assert len(forms) == len(set(forms))
    assert all(len(group) >= 2 for group in verb_groups())


def test_bm25_finds_the_past_form_only_with_it_added() -> None:
    index = LexicalIndex.build(
        ["Wang Yi met Patrushev in Moscow.", "The weather in Moscow was cold."],
        ["Wang Yi met Patrushev in Moscow.", "The weather in Moscow was cold."],
    )
    question = tokenize("Who did he meet?")
    assert index.scores(question).tolist() == [0.0, 0.0]
    assert index.scores(with_verb_forms(question))[0] > 0.0


ARTICLES = [
    {"id": "the-meeting", "title": "Harbour news", "date": "2023-02-24",
     "paragraphs": ["The mayor met the leaders of the fishermen's union on the pier on Friday."]},
    {"id": "the-plan", "title": "Council diary", "date": "2023-02-22",
     "paragraphs": ["On Friday the mayor will hold a meeting about the pier and the "
                    "harbour fees."]},
    {"id": "weather", "title": "Weather", "date": "2023-02-23",
     "paragraphs": ["Rain is expected along the coast all weekend."]},
]  # fmt: skip


def test_who_did_he_meet_finds_the_meeting_that_happened(
    tmp_path: Path,
    encoder: SentenceTransformerEncoder,
    multilingual: MultilingualEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    lines = "\n".join(json.dumps(article) for article in ARTICLES)
    (data / "articles.jsonl").write_text(lines + "\n", encoding="utf-8")
    engine = Engine(open_store(tmp_path / "index"), encoder, multilingual=multilingual)
    engine.build([data])
    question = "Who did the mayor meet on Friday?"
    assert engine.search(question, top=3).results[0].article_id == "the-meeting"
    # Without the past forms, the plan to meet comes first: the check above tests something.
    monkeypatch.setattr(search, "asks_in_past", lambda _question: False)
    assert engine.search(question, top=3).results[0].article_id == "the-plan"
