"""Whose words a question asks for, and how well a passage's speaker matches.

"What did Jake Sullivan say about export controls?", "according to the official who briefed
on the Vienna meeting", "Nick Bos's view on ...": the editor names a speaker, by name or by
role. A passage's speaker shows in its turn label ("MR. SULLIVAN:", "SENIOR ADMINISTRATION
OFFICIAL:"), in its attribution ("..., Sullivan said") and in the article's title ("Statement
by White House Press Secretary Jen Psaki", "Background Press Call by a Senior Administration
Official"). The match is the share of the question's speaker words found there: a ranking
signal (see `fusion.fuse`), zero for every passage when the question names nobody.
"""

from __future__ import annotations

import re

from embeddings.text.speakers import named_speaker
from embeddings.text.turns import label_of

_VERBS = (
    r"(?:say|said|tell|told|think|argue|describe|explain|characteri[sz]e|call|claim|warn|"
    r"announce|note|add|stress|suggest|predict|recall|find|want|see|hope|expect|believe|"
    r"consider|respond|answer|reply|admit|acknowledge|promise|pledge|insist|emphasi[sz]e|"
    r"mean|offer|give|point|reveal|praise|criticize|criticise|urge|express|make|put|share)"
)
_DID_X_SAY = re.compile(
    rf"\b(?:did|does|do|has|have|had|would|will|was|were)\s+(?P<who>.{{2,90}}?)\s+{_VERBS}\b",
    re.IGNORECASE,
)
_ACCORDING = re.compile(r"\baccording to\s+(?P<who>[^,?;]{2,90})", re.IGNORECASE)
_POSSESSIVE = re.compile(
    r"(?P<who>(?:[A-Z][\w\-]+\s+){0,3}[A-Z][\w\-]+)[’']s?\s+(?:view|views|position|opinion|"
    r"take|assessment|answer|response|comments?|remarks?|words|account|explanation)\b"
)
# Where a speaker's description stops: "the official who briefed reporters", "Sullivan in".
_CLAUSE = re.compile(
    r"\s+(?:who|that|which|when|while|in|at|on|during|about|after|before|to|of the call)\b.*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_][\w\-]*", re.UNICODE)
_IGNORED_WORDS = """the a an his her their its this that there it he she they we you i
    mr mrs ms dr who briefed reporters u.s us white house"""
_IGNORED = frozenset(_IGNORED_WORDS.split())


def asked_speaker(question: str) -> frozenset[str]:
    """The words (case-folded) naming the speaker the question asks about; empty if none."""
    for pattern in (_ACCORDING, _POSSESSIVE, _DID_X_SAY):
        if match := pattern.search(question):
            who = _CLAUSE.sub("", match.group("who"))
            words = frozenset(_fold(who)) - _IGNORED
            if words:
                return words
    return frozenset()


def passage_speaker(text: str, title: str) -> frozenset[str]:
    """The words naming who speaks in a passage: its turn label, the speaker its text names,
    and the article's title (which names the speaker of a statement or a call)."""
    parts = [title]
    for line in text.split("\n"):
        if label := label_of(line):
            parts.append(label)
    if named := named_speaker(text):
        parts.append(named)
    return frozenset(_fold(" ".join(parts))) - _IGNORED


def speaker_match(asked: frozenset[str], spoken: frozenset[str]) -> float:
    """Share of the asked speaker's words that the passage's speaker words hold."""
    return len(asked & spoken) / len(asked) if asked else 0.0


def _fold(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]
