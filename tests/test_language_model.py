"""The language identifier from its decompressed copy in a cache folder ranks as py3langid's own."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

import bot.settings
from embeddings.text import language, language_model

FIXTURES = Path(__file__).parent / "fixtures"
LANGUAGES = ["de", "en", "es", "ru", "zh"]


def _questions() -> list[str]:
    by_language = json.loads((FIXTURES / "language_questions.json").read_text(encoding="utf-8"))
    return [q for language, qs in by_language.items() if language != "_note" for q in qs]


def test_the_cached_model_ranks_like_the_packaged_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = language_model.load_identifier(LANGUAGES)
    first = language_model.load_identifier(LANGUAGES, tmp_path)  # decompresses into the cache
    assert [p.suffix for p in tmp_path.iterdir()] == [".npy"]

    def no_lzma(*_: object, **__: object) -> None:
        raise AssertionError("the cached model was decompressed again")

    monkeypatch.setattr(lzma, "open", no_lzma)
    cached = language_model.load_identifier(LANGUAGES, tmp_path)
    for question in [*_questions(), "", "???", "G20 2021"]:
        expected = packaged.rank(question)
        assert first.rank(question) == expected
        assert cached.rank(question) == expected


def test_the_settings_keep_it_beside_the_encoders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(language, "_cache", None)
    monkeypatch.setattr(bot.settings, "load_multilingual", lambda *_, **__: None)  # no model
    bot.settings.multilingual_from(bot.settings.load_settings(index_dir=tmp_path))
    assert language._cache == tmp_path / "encoders"


def test_a_folder_it_cannot_write_costs_time_not_the_answer(tmp_path: Path) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    identifier = language_model.load_identifier(LANGUAGES, blocked / "encoders")
    assert identifier.rank("Wer hat den Sicherheitsrat getroffen?")[0][0] == "de"
