"""Questions in other languages find English passages through the multilingual model."""

from __future__ import annotations

import shutil

import pytest

from embeddings import Engine, SentenceTransformerEncoder
from embeddings.indexer import build_index
from embeddings.multilingual import MultilingualEncoder, is_english

from .helpers import DATA, WANG_YI_UN, write

AZERNEWS = DATA / "000_ce1b1adc1bd8e6a9.txt"


@pytest.mark.parametrize(
    ("question", "english"),
    [
        ("What did Wang Yi say about the UN?", True),
        ("how many moons does jupiter have", True),
        ("Wang Yi UN", True),
        ("Что Ван И сказал об ООН?", False),
        ("王毅对联合国说了什么？", False),
        ("ماذا قال وانغ يي عن الأمم المتحدة؟", False),
        ("Was sagte Wang Yi über die UNO?", False),
        ("¿Qué dijo Wang Yi sobre la ONU?", False),
        ("Wang Yi đã nói gì về Liên Hợp Quốc?", False),
    ],
)
def test_is_english_tells_english_questions_from_others(question: str, english: bool) -> None:
    assert is_english(question) is english


@pytest.fixture(scope="module")
def multilingual_engine(
    encoder: SentenceTransformerEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Engine:
    """The AzerNews article and two unrelated ones, indexed with both models."""
    folder = tmp_path_factory.mktemp("multilingual")
    shutil.copy(AZERNEWS, folder / AZERNEWS.name)
    bakery = "A new bakery opened on the market square, selling bread, cakes and coffee."
    rail = "The ministry said the new railway line will open to passengers next spring."
    write(folder, "bakery.txt", f"title A bakery opens\n\n{bakery}\n")
    write(folder, "rail.txt", f"title Rail line delayed\n\n{rail}\n")
    multilingual = MultilingualEncoder()
    build_index([folder], folder / ".index", encoder, multilingual=multilingual)
    return Engine(folder / ".index", encoder, multilingual=multilingual)


@pytest.mark.parametrize(
    "question",
    [
        "Что Ван И сказал о Совете Безопасности ООН?",  # Russian
        "王毅对联合国安理会说了什么？",  # Chinese
        "Was sagte Wang Yi über den UN-Sicherheitsrat?",  # German
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


def test_a_question_in_another_language_about_an_absent_topic_is_declined(
    multilingual_engine: Engine,
) -> None:
    answer = multilingual_engine.search("Сколько спутников у Юпитера?")  # Jupiter's moons
    assert not answer.answered


def test_english_questions_do_not_go_through_the_multilingual_model(
    multilingual_engine: Engine,
) -> None:
    searcher = multilingual_engine._current()
    assert searcher.rank("What did Wang Yi say about the UN?").translated is None
    assert searcher.rank("Что Ван И сказал об ООН?").translated is not None
