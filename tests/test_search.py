"""Retrieval on the shipped archive through the real model, FAISS and BM25."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings import Engine, QuestionError, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store

from .helpers import WANG_YI_QUESTION, WANG_YI_UN, write


def test_wang_yi_un_question_is_answered_first_with_the_sentence_marked(
    shipped_engine: Engine,
) -> None:
    answer = shipped_engine.search(WANG_YI_QUESTION)
    assert answer.answered
    top = answer.results[0]
    assert top.article_id == "000_ce1b1adc1bd8e6a9"
    assert top.answer_sentence == WANG_YI_UN
    assert (top.date, top.source) == ("2023-02-22", "@AzerNewsAz")
    assert top.title.startswith("The People’s Republic of China is ready to join forces")
    assert len(answer.results) == 3
    assert [r.score for r in answer.results] == sorted((r.score for r in answer.results),
                                                       reverse=True)  # fmt: skip


@pytest.mark.parametrize(
    "question",
    [
        "What is the boiling point of tungsten?",
        "What is the recipe for a classic French onion soup?",
        "How many moons does Jupiter have?",
    ],
)
def test_questions_about_things_absent_from_the_archive_are_declined(
    shipped_engine: Engine, question: str
) -> None:
    answer = shipped_engine.search(question)
    assert not answer.answered
    assert answer.confidence < 0.5
    assert answer.results  # the closest weak matches are still listed


def test_answer_sentence_is_one_sentence_of_the_passage(shipped_engine: Engine) -> None:
    answer = shipped_engine.search("How many service members were discharged under Don't Ask?")
    top = answer.results[0]
    assert top.text[top.answer_start : top.answer_end] == top.answer_sentence
    assert "discharged" in top.answer_sentence


def test_near_duplicate_passages_from_different_articles_are_shown_once(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    statement = (
        "The ministry confirmed that the new railway line between the two coastal cities "
        "will open to passengers in the spring after years of delays."
    )
    write(tmp_path / "data", "wire.txt", f"title Railway line to open\n\n{statement}\n")
    write(tmp_path / "data", "repost.txt", f"title Rail link opening\n\n{statement}\n")
    write(tmp_path / "data", "other.txt", "title Bakery\n\nA new bakery opened on the square "
          "selling bread and cakes to the town.\n")  # fmt: skip
    build_index([tmp_path / "data"], open_store(tmp_path / "index"), encoder)
    answer = Engine(open_store(tmp_path / "index"), encoder).search(
        "When will the railway line open?", top=3
    )
    texts = [r.text for r in answer.results]
    assert texts.count(statement) == 1
    assert len(answer.results) == 2


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \n ", "empty"), ("x" * 10_000, "10,000 characters")],
)
def test_empty_and_oversized_questions_are_refused_clearly(
    shipped_engine: Engine, question: str, message: str
) -> None:
    with pytest.raises(QuestionError, match=message):
        shipped_engine.search(question)


def test_markup_in_a_question_is_just_text(shipped_engine: Engine) -> None:
    answer = shipped_engine.search("<b>What</b> did Wang Yi say about the UN &amp; </a> peace?")
    assert answer.results[0].answer_sentence == WANG_YI_UN


def test_a_quote_that_never_names_its_speaker_answers_a_question_about_the_speaker(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    write(tmp_path / "data", "rossi.txt", "title Budget debate\n\n"
          "Maria Rossi, the finance minister, said on Monday that the budget is balanced.\n\n"
          '"Taxes on bread and milk will fall by half next year," she said.\n')  # fmt: skip
    write(tmp_path / "data", "novak.txt", "title Budget debate\n\n"
          "Jan Novak, the opposition leader, said on Tuesday that the budget is a fiction.\n\n"
          '"Taxes on bread and milk will double next year," he said.\n')  # fmt: skip
    build_index([tmp_path / "data"], open_store(tmp_path / "index"), encoder)
    engine = Engine(open_store(tmp_path / "index"), encoder)
    for speaker, article, quote in [
        ("Maria Rossi", "rossi", "will fall by half"),
        ("Jan Novak", "novak", "will double"),
    ]:
        top = engine.search(f"What did {speaker} say about taxes on bread?").results[0]
        assert top.article_id == article
        assert speaker not in top.text
        assert quote in top.answer_sentence


def test_the_shipped_articles_he_said_quote_is_found_and_marked(shipped_engine: Engine) -> None:
    answer = shipped_engine.search(
        "What did Wang Yi say about guarantees for national development?"
    )
    top = answer.results[0]
    assert top.article_id == "000_ce1b1adc1bd8e6a9"
    assert "Wang Yi" not in top.text  # the paragraph says "he said"
    assert top.answer_sentence.startswith('"It’s necessary to unlock the potential')
