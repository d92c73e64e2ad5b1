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
from itertools import pairwise

from embeddings.text.speakers import named_speaker
from embeddings.text.turns import label_of

_ROLES = (
    r"(?:officials?|secretary|president|spokes\w+|minister|advis[eo]r|director|senator|"
    r"ambassador|governor|chair\w*|moderator|briefer|envoy|aide|leader|ceo)"
)
_ROLE_WORDS = rf"(?:prime|foreign|deputy|senior|vice|press|chief|national|security|{_ROLES})"
# Verbs of saying, thinking and stance: "did Microsoft end support" asks about a deed, not
# about anyone's words.
_VERBS = (
    r"(?:say|tell|think|argue|describe|explain|characteri[sz]e|call|claim|warn|announce|note|"
    r"add|stress|suggest|predict|recall|find|want|see|hope|expect|believe|consider|respond|"
    r"answer|reply|admit|acknowledge|promise|pledge|insist|emphasi[sz]e|mean|compare|trace|"
    r"frame|raise|sum|set|ask|mention|view|urge|express|praise|critici[sz]e|offer|reveal|"
    r"welcome|thank|credit|blame|defend|dismiss|deny|confirm|assess|cite|propose|make|give)"
)
# "did the senior official (who briefed ...) say", "did Jake Sullivan tell", "does Isabel Ruiz
# hope": after the auxiliary, the shortest phrase that ends in a name or a role and is
# followed by a lower-case word that does not go on naming the role ("prime minister").
_DID_X_SAY = re.compile(
    rf"\b(?:[Dd]id|[Dd]oes|[Dd]o|[Hh]as|[Hh]ave|[Hh]ad|[Ww]ould|[Ww]ill)\s+"
    rf"(?P<who>(?:\S+\s+){{0,6}}?(?:[A-Z][\w\-]+|{_ROLES}))"
    rf"\s+(?!{_ROLE_WORDS}\b)(?P<next>[a-z]+)"
)
_ROLE = re.compile(rf"\b{_ROLES}\b", re.IGNORECASE)
_SPEECH = re.compile(rf"{_VERBS}\b|who\b")
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
_WORD = re.compile(r"[^\W\d_][\w\-]+", re.UNICODE)  # two letters or more
_IGNORED_WORDS = """the a an his her their its this that there it he she they we you i
    mr mrs ms dr who briefed reporters u.s us white house"""
_IGNORED = frozenset(_IGNORED_WORDS.split())


def asked_speaker(question: str) -> frozenset[str]:
    """The words (case-folded) naming the speaker the question asks about; empty if none."""
    who = speaker_phrase(question)
    return frozenset(_fold(who)) - _IGNORED if who else frozenset()


def speaker_phrase(question: str) -> str | None:
    """The speaker the question asks about as written ("Jake Sullivan", "the senior
    official"), or None when it names nobody."""
    for pattern in (_ACCORDING, _POSSESSIVE, _DID_X_SAY):
        for match in pattern.finditer(question):
            who = _CLAUSE.sub("", match.group("who"))
            words = frozenset(_fold(who)) - _IGNORED
            said = "next" not in match.groupdict() or bool(_SPEECH.match(match.group("next")))
            if words and (_ROLE.search(who) or (said and re.search(r"\b[A-Z]", who))):
                return who.strip()
    return None


def passage_speaker(text: str, title: str, speaker: str | None = None) -> frozenset[str]:
    """The words naming who speaks in a passage: its turn labels, the speaker its text names
    or leaves implicit (`speaker`, from ingest), and, unless a turn label says who speaks,
    the article's title (which names the speaker of a statement or a call). An interview's
    title names the interviewee, and the interviewer's own turns ("Wikinews: The Gliders have
    never won …") are not the interviewee's words."""
    labels = [label for line in text.split("\n") if (label := label_of(line))]
    parts = [*labels, speaker or "", named_speaker(text) or ""]
    if not labels:
        parts.append(title)
    return frozenset(_with_joined(_fold(" ".join(parts)))) - _IGNORED


def _with_joined(words: list[str]) -> list[str]:
    """The words and each two neighbours written as one: a transcript's "Tina Mc Kenzie" is
    the question's "Tina McKenzie"."""
    return [*words, *(a + b for a, b in pairwise(words))]


def speaker_match(asked: frozenset[str], spoken: frozenset[str]) -> float:
    """Share of the asked speaker's words that the passage's speaker words hold."""
    return len(asked & spoken) / len(asked) if asked else 0.0


def _fold(text: str) -> list[str]:
    """Case-folded words, a plural's final s dropped ("officials" meets "official")."""
    words = [w.casefold() for w in _WORD.findall(text)]
    return [w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in words]
