"""Questions in other languages find English passages through the multilingual model
(part of the shipped archive, indexed with both real models)."""

from __future__ import annotations

import pytest

from embeddings import Engine

from .helpers import WANG_YI_UN


@pytest.mark.parametrize(
    "question",
    [
        # What did Wang Yi say about China's and Russia's role in the UN Security Council?
        "Что Ван И сказал о роли Китая и России в Совете Безопасности ООН?",
        # What responsibility do China and Russia bear as permanent members, said Wang Yi?
        "王毅说中国和俄罗斯作为联合国安理会常任理事国承担什么责任？",
        "Was sagte Wang Yi über die Verantwortung Chinas und Russlands im UN-Sicherheitsrat?",
    ],
)
def test_a_question_in_another_language_finds_the_un_paragraph(
    multilingual_engine: Engine, question: str
) -> None:
    answer = multilingual_engine.search(question)
    assert answer.answered
    top = answer.results[0]
    assert top.article_id == "000_ce1b1adc1bd8e6a9"
    assert top.answer_sentence == WANG_YI_UN


def test_an_absent_topic_in_another_language_gets_less_confidence_than_an_answerable_one(
    multilingual_engine: Engine,
) -> None:
    # The threshold for other languages declines only about half of absent topics (README
    # "Measured"); what must hold is that the calibrated probability orders them.
    absent = multilingual_engine.search("Сколько спутников у Юпитера?")  # Jupiter's moons
    answerable = multilingual_engine.search(
        "Что Ван И сказал о роли Китая и России в Совете Безопасности ООН?"
    )
    assert answerable.answered
    assert absent.confidence < answerable.confidence - 0.3


def test_english_questions_do_not_go_through_the_multilingual_model(
    multilingual_engine: Engine,
) -> None:
    searcher = multilingual_engine._current()
    assert searcher.rank("What did Wang Yi say about the UN?").translated is None
    assert searcher.rank("Что Ван И сказал об ООН?").translated is not None
