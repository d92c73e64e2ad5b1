"""Routing: every English question to MiniLM, every question in another language to the
multilingual model (no embedding model needed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings import Engine
from embeddings.errors import MissingDependencyError
from embeddings.index.stores import open_store
from embeddings.models.tiny import TinyEncoder
from embeddings.text import language
from embeddings.text.language import is_english

from .helpers import REPO

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "language_questions.json"
QUESTIONS: dict[str, list[str]] = {
    lang: questions
    for lang, questions in json.loads(FIXTURE.read_text(encoding="utf-8")).items()
    if not lang.startswith("_")
}
XQUAD = ["ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]


def test_the_fixture_covers_english_and_every_xquad_language_and_indonesian() -> None:
    assert len(QUESTIONS["en"]) >= 30
    for lang in [*XQUAD, "id"]:
        assert len(QUESTIONS[lang]) >= 5, lang


@pytest.mark.parametrize("question", QUESTIONS["en"])
def test_an_english_question_stays_with_the_english_model(question: str) -> None:
    assert is_english(question)


@pytest.mark.parametrize(
    ("lang", "question"),
    [(lang, q) for lang, questions in QUESTIONS.items() if lang != "en" for q in questions],
)
def test_a_question_in_another_language_goes_to_the_multilingual_model(
    lang: str, question: str
) -> None:
    assert not is_english(question), lang


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("Biden Ukraine aid?", "aid"),
        ("What did Wang Yi say about the UN?", "What did say about the"),
        ("Wann findet der G20-Gipfel statt?", "Wann findet der statt"),
        ("İngiltere başbakanı neden istifa etti?", "İngiltere başbakanı neden istifa etti"),
        ("COVID-19 deaths in 2021?", "deaths in"),
    ],
)
def test_names_and_numbers_are_left_out_of_the_second_reading(question: str, words: str) -> None:
    assert language._without_names(question) == words


@pytest.mark.parametrize("question", ["Wang Yi UN", "NATO G7", "2021?", "", "???"])
def test_a_question_of_names_or_no_words_is_english(question: str) -> None:
    assert is_english(question)


def test_a_missing_identifier_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setitem(sys.modules, "py3langid", None)
    monkeypatch.setitem(sys.modules, "py3langid.langid", None)
    with pytest.raises(MissingDependencyError, match="pip install py3langid"):
        is_english("Was sagte Scholz?")


def test_importing_the_module_does_not_load_the_identifier() -> None:
    # `newsdesk ask` with the multilingual model off never asks; it must not pay for the import.
    code = "import sys, embeddings.text.language; print('py3langid' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class HashedMultilingual(TinyEncoder):
    """Stands in for multilingual-e5 where only its presence matters."""

    name = "tests/hashed-multilingual"
    dimension = 384

    def encode_passages(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        return self.encode(texts, progress)

    def encode_query(self, question: str) -> np.ndarray:
        return self.encode([question])[0]


@pytest.mark.parametrize("multilingual", [True, False])
def test_the_bot_loads_the_identifier_with_the_index_only_when_it_reads_other_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, multilingual: bool
) -> None:
    # `newsdesk serve` calls Engine.load before the first question, so that question does not
    # wait a second for the identifier; an English-only engine never needs it.
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(REPO / "data" / "000_ce1b1adc1bd8e6a9.txt", data)
    other_languages = HashedMultilingual() if multilingual else None
    engine = Engine(open_store(tmp_path / "index"), TinyEncoder(), multilingual=other_languages)
    engine.build([data])
    monkeypatch.setattr(language, "_identifier", None)
    engine.load()
    assert (language._identifier is not None) is multilingual
