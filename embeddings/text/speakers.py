"""Who is speaking in a paragraph, when the paragraph itself does not say.

News quotes name their speaker once ("Wang Yi, director of ..., said on Tuesday") and then go
on with "... ," he said. An editor asks "what did Wang Yi say about national development?",
and the paragraph that answers never contains "Wang Yi". We carry the last named speaker
forward onto paragraphs attributed only by a pronoun or a role ("he said", "the minister
added"), and onto unlabelled turns of a transcript ("MR. SULLIVAN: ..."), so that the
passage's model input and its BM25 text can name the speaker.

Rule-based on purpose: it is cheap at index time, explainable, and wrong only in the
direction of adding a name that a reader of the article would also have assumed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_VERB = (
    r"(?:said|says|told|added|adds|noted|notes|stressed|stated|explained|continued|argued|warned|"
    r"announced|declared|emphasi[sz]ed|underlined|underscored|insisted|replied|recalled|"
    r"remarked|observed|concluded|wrote|asserted|acknowledged|pointed out)"
)
# A capitalised run of up to six words ("Nikolay Patrushev", "Secretary of State Antony
# Blinken", "Jean-Pierre"), allowing lower-case particles inside it.
_NAME = (
    r"[A-Z][\w’'\-]*\.?"
    r"(?:\s+(?:(?:of|the|de|da|del|van|von|al|bin|la|le)\s+)?[A-Z][\w’'\-]*\.?){0,5}"
)
_NAMED_BEFORE = re.compile(
    rf"(?<![\w’'])({_NAME})(?:,\s[^,“”\"]{{1,160}},)?\s+(?:also\s+|then\s+|later\s+)?{_VERB}\b"
)
_NAMED_AFTER = re.compile(rf"\b(?:{_VERB}|according to)\s+({_NAME})")
# "MR. SULLIVAN: ...", "THE PRESIDENT: ...", "Frank Messina: ...": a transcript turn.
_LABEL = re.compile(r"^\s*([A-Z][\w.’'\-]*(?:\s[A-Z][\w.’'\-]*){0,3}):\s")
_CONTRACTION = re.compile(r"[’'](?:ve|m|ll|d|s|re|t)$", re.IGNORECASE)
_PRONOUN = re.compile(
    rf"\b(?:(?:he|she)\s+(?:also\s+)?{_VERB}|{_VERB}\s+(?:he|she)"
    rf"|the\s+(?:\w+\s+){{0,2}}(?:minister|president|diplomat|official|secretary|spokes\w+|"
    rf"director|chairman|chair|leader|ambassador|envoy|senator|governor|mayor|chief|"
    rf"prime minister|premier|prosecutor|general|commander|professor|researcher|expert|"
    rf"analyst|head|ceo|founder|author|minister)\s+(?:also\s+)?{_VERB})\b",
    re.IGNORECASE,
)
_OPENS_WITH_QUOTE = re.compile(r"^\s*[“\"«„]")
# Capitalised words that start a sentence or name a role, not a person.
_NOT_NAME_WORDS = """
    a an the this that these those it its he she they we i you our his her their there
    but and or so yet if when while as at in on for with by from to of after before during
    also however meanwhile moreover mr mrs ms dr q a. q. president minister secretary
    officials official spokesman spokeswoman spokesperson reporters sources police
"""
_TITLE_WORD_LIST = """
    president vice minister prime secretary director chairman chair senator governor mayor
    ambassador general mr mrs ms dr sir lord state foreign defense defence security deputy
    press spokesman spokeswoman chief first lady sen rep gov amb"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())
_TITLE_WORDS = frozenset(_TITLE_WORD_LIST.split())


def speakers(paragraphs: Sequence[str]) -> list[str | None]:
    """For each paragraph, the speaker it leaves implicit (None when it names one, or when
    nobody is quoted, or when no earlier paragraph named anyone)."""
    labels = [_label(p) for p in paragraphs]
    # A label counts when it recurs ("Wikinews:", "Frank Messina:") or is a shouted
    # transcript label ("MR. SULLIVAN:"); a lone "Note:" or "Update:" is not a speaker.
    turns = {x for x in labels if x and (labels.count(x) >= 2 or x.isupper())}
    transcript = sum(1 for x in labels if x in turns) >= 2
    last: str | None = None
    out: list[str | None] = []
    for paragraph, label in zip(paragraphs, labels, strict=True):
        named = _speaker_name(label) if label in turns else named_speaker(paragraph)
        implicit = None
        if (
            named is None
            and last is not None
            and (transcript or _PRONOUN.search(paragraph) or _OPENS_WITH_QUOTE.match(paragraph))
        ):
            implicit = last
        out.append(implicit)
        last = named or last
    return out


def named_speaker(text: str) -> str | None:
    """The first person this text names as speaking ("X said", "said X", "according to X")."""
    found: list[tuple[int, str]] = []
    for pattern in (_NAMED_BEFORE, _NAMED_AFTER):
        for match in pattern.finditer(text):
            name = _clean(match.group(1))
            if name:
                found.append((match.start(1), name))
                break
    return min(found)[1] if found else None


def _label(paragraph: str) -> str | None:
    """The text before a leading colon that could be a speaker's label."""
    match = _LABEL.match(paragraph)
    if not match or match.group(1).rstrip(".") in {"Q", "A"}:
        return None
    return match.group(1)


def _speaker_name(label: str | None) -> str | None:
    if label is None:
        return None
    return " ".join(w.capitalize() for w in label.split()) if label.isupper() else label


def _clean(name: str) -> str | None:
    """Drop sentence-initial non-names ("The", "But"); refuse what is left if it is only a
    role ("President", "The minister")."""
    words = name.split()
    while words and _CONTRACTION.sub("", words[0].lower().rstrip(".")) in _NOT_NAMES - _TITLE_WORDS:
        words = words[1:]
    if not words or all(w.lower().rstrip(".,’'") in _TITLE_WORDS | _NOT_NAMES for w in words):
        return None
    return " ".join(words).rstrip(".,")
