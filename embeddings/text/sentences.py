"""Sentence boundaries as character spans, tuned for news prose.

A rule-based splitter is enough here: what matters is that "Donald J. Trump", "U.S.", "Mr." and
"5 p.m." do not end a sentence, so that the sentence we mark as the answer reads whole.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

# Words that end with a period without ending the sentence. Lower-case, without the final period.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "gen", "gov", "sen", "rep",
        "rev", "hon", "lt", "col", "sgt", "capt", "cmdr", "adm", "pres", "amb", "sec", "dept",
        "inc", "ltd", "co", "corp", "no", "nos", "vs", "etc", "e.g", "i.e", "u.s", "u.k", "u.n",
        "d.c", "a.m", "p.m", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "fig", "approx", "est", "ft", "vol", "art", "op", "cf", "al", "messrs", "mme",
        "mlle",
    }
)  # fmt: skip

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace
# followed by something that can start a sentence; or CJK terminal punctuation; or a line break.
_BOUNDARY = re.compile(
    r"""(?P<end>[.!?…]+["'”’»)\]]*)(?P<gap>\s+)(?=["'“‘«(\[]?[\w¿¡])"""
    r"""|(?P<cjk>[。！？]+)(?P<cjkgap>\s*)"""
    r"""|(?P<nl>\s*\n\s*)""",
    re.UNICODE,
)
_WORD_BEFORE = re.compile(r"([\w.]+)\.$", re.UNICODE)


def _is_abbreviation(text_before: str) -> bool:
    """True when the period that ends `text_before` belongs to an abbreviation or an initial."""
    match = _WORD_BEFORE.search(text_before)
    if not match:
        return False
    word = match.group(1)
    # A single capital letter ("Donald J. Trump") is an initial, not a sentence.
    if len(word) == 1 and word.isupper():
        return True
    return word.lower().lstrip("(\"'“‘") in _ABBREVIATIONS


def _next_starts_lowercase(text: str, pos: int) -> bool:
    stripped = text[pos:].lstrip("\"'“‘«([")
    return bool(stripped) and stripped[0].islower()


def sentence_spans(text: str) -> list[Span]:
    """Spans (start, end) of the sentences in `text`, whitespace trimmed, in order."""
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group("end") is not None:
            end = match.end("end")
            punctuation = match.group("end")
            if punctuation.startswith(".") and _is_abbreviation(
                text[start : match.start("end") + 1]
            ):
                continue
            # "He said 'no.' and left": a lower-case continuation means the sentence goes on.
            if _next_starts_lowercase(text, match.end()):
                continue
        elif match.group("cjk") is not None:
            end = match.end("cjk")
        else:
            end = match.start("nl")
        _append(spans, text, start, end)
        start = match.end()
    _append(spans, text, start, len(text))
    return spans


def _append(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` as strings."""
    return [text[a:b] for a, b in sentence_spans(text)]
