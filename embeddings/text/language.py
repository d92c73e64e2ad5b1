"""Which model reads a question: English ones go to MiniLM, the rest to the multilingual model.

py3langid (a maintained fork of langid.py) ships its model inside its wheel (4.6 MB, numpy
only), so nothing is downloaded at run time, and it gives a probability for every language,
which the English bias below needs. On short questions it was the most reliable of the
identifiers on PyPI we measured (benchmarks/language_id.py; lingua's wheel is 96 MB, fastText's
small model reads a plain Romanian question as English, CLD2 answers "unknown" and CLD3 another
language for many short English ones).

No identifier is sure of a short, name-heavy question ("Biden Ukraine aid?", "Scholz Bundestag
vote?"): the names carry the letters, and they read alike to both models. So a question in
Latin script is English unless the identifier is confident it is in one other language, both as
written and with its names left out; one that is nothing but names stays English. A question
mostly in another script goes to the multilingual model without asking the identifier.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

from embeddings.text import language_model

# Widely written languages, English among them. py3langid knows 140, many of them minor
# languages and creoles (Tswana, Scots Gaelic, Nigerian Pidgin, ...) whose letter patterns soak
# up the names of a short English question ("Kim Jong Un missile launch?" read as Tswana); a
# question in a language left out is still scored against its neighbours here, not English.
_LANGUAGES = (
    "ar", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he",
    "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nl", "no", "pl", "pt", "ro",
    "ru", "sk", "sl", "sr", "sv", "sw", "th", "tl", "tr", "uk", "ur", "vi", "zh",
)  # fmt: skip
_ENGLISH = "en"
# Another language is trusted when it is at least this probable and this many times as
# probable as English, on both readings. On tests/fixtures/language_questions.json every setting
# from 0.15 to 0.2 and from 1.5x to 4x routes all questions right; of the dev sets' distinct
# questions, 3x keeps all 5,678 of squad-dev English (2x sends 2 away) and routes all but 11 of
# xquad-crosslingual-dev's 3,549 to the multilingual model (German ones whose nouns and English
# names leave the identifier too little, such as "Welchen Beruf hat Thomas Piketty?").
_CONFIDENT = 0.2
_TIMES_ENGLISH = 3.0

_WORD = re.compile(r"[\w'’-]+")
_LETTER = re.compile(r"[^\W\d_]")

_lock = threading.Lock()
_identifier: Any = None  # py3langid's LanguageIdentifier, loaded on the first question
_cache: Path | None = None  # where its decompressed model is kept (see `cache_identifier_in`)


def is_english(question: str) -> bool:
    """Whether MiniLM should read `question`: true unless it is mostly in a script other than
    Latin, or confidently in one other language both as written and without its names."""
    letters = _LETTER.findall(question)
    if not letters:
        return True
    if sum(unicodedata.name(c, "").startswith("LATIN") for c in letters) < len(letters) / 2:
        return False  # MiniLM reads Latin script only, whatever the words ("Путин Си Москва")
    names_left_out = _without_names(question)
    if not _LETTER.search(names_left_out):
        return True
    identifier = load_identifier()
    foreign = _other_language(identifier, question)
    return not (foreign and _other_language(identifier, names_left_out))


def language_of(text: str) -> str:
    """The ISO 639-1 code of the language `text` is most likely in: "en" whenever `is_english`
    reads it as English, otherwise the identifier's likeliest other language ("ru", "zh", …)."""
    if is_english(text):
        return _ENGLISH
    ranked: list[tuple[str, float]] = load_identifier().rank(text)
    return max((p, language) for language, p in ranked if language != _ENGLISH)[1]


def _without_names(question: str) -> str:
    """The question's words less its names: words with a digit ("G20", "2021"), capitalised
    words after the first, and a capitalised first word followed by another ("Biden Ukraine
    aid?" → "aid"). German nouns go too; the question as written still has them."""
    words = _WORD.findall(question)

    def is_name(position: int, word: str) -> bool:
        if any(c.isdigit() for c in word):
            return True
        if not word[0].isupper():
            return False
        return position > 0 or (len(words) > 1 and words[1][0].isupper())

    return " ".join(word for position, word in enumerate(words) if not is_name(position, word))


def _other_language(identifier: Any, text: str) -> bool:
    """Whether one language other than English is confidently the language of `text`."""
    probabilities: list[tuple[str, float]] = identifier.rank(text)
    english = next(p for language, p in probabilities if language == _ENGLISH)
    other = max(p for language, p in probabilities if language != _ENGLISH)
    return other >= _CONFIDENT and other >= _TIMES_ENGLISH * english


def cache_identifier_in(folder: Path) -> None:
    """Keep the identifier's model decompressed in `folder`: each process after the first then
    loads it in a few hundredths of a second instead of about 0.4 (`language_model`)."""
    global _cache
    with _lock:
        _cache = folder


def load_identifier() -> Any:
    """The identifier, loaded once: by the first question that needs it, so commands that ask
    none never pay for it, or before (the bot)."""
    global _identifier
    with _lock:
        if _identifier is None:
            _identifier = language_model.load_identifier(_LANGUAGES, _cache)
        return _identifier
