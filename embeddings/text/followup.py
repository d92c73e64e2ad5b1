"""Follow-up questions read with the previous question's subject.

In a conversation people ask "And what did he say about export controls?" or "what about
Russia?" after an answer: on its own such a question names nobody and nothing, and a search
for it finds noise. `resolve_followup` rewrites it into a complete question from the previous
one — the speaker for he/she/they, the topic for it/that, the new topic for "what about X" —
and returns None for a question that is complete on its own. Pure functions of two strings;
the bot decides which earlier question counts as "previous".
"""

from __future__ import annotations

import re

from embeddings.ranking.speaker_intent import speaker_phrase

# "And …", "Also, …": a conversational opener that continues the last exchange.
_OPENER = re.compile(r"^\s*(?:and|also|but|so|ok(?:ay)?|then)\b[\s,]*", re.IGNORECASE)
# "What about Russia?", "How about in 2022?", "And Russia?"
_NEW_TOPIC = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(?P<topic>.+?)\s*[?.!]*\s*$", re.IGNORECASE
)
_PERSON = re.compile(r"\b(?:he|she|they|him|her|them|his|hers|their|theirs)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(?:his|her|their)\b", re.IGNORECASE)
_THING = re.compile(r"\b(?:it|that|this|those|these)\b", re.IGNORECASE)
# "What did X say about TOPIC?", "… on TOPIC", "… regarding TOPIC": the previous question's
# topic, up to the end of the sentence.
_TOPIC = re.compile(r"\b(?:about|on|regarding|concerning)\s+(?P<topic>[^?.!]+)", re.IGNORECASE)
# A name: a capitalised word that does not start the sentence ("Wang Yi", "Russia").
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w\-’']*(?:\s+[A-Z][\w\-’']*)*")
_DETERMINER = re.compile(r"\b(?:the|a|an)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_][\w\-’']*")
_ELLIPTICAL_WORDS = 3  # "Why?", "And in 2022?", "And Russia?"
_REFERENCE_WORDS = 6  # "When did that start?": a short question leaning on "that"
_QUESTION_WORD = re.compile(
    r"(?:why|when|where|how|who|what|which|is|are|was|were|did|does|do)\b", re.IGNORECASE
)
_PREPOSITION = re.compile(r"(?:in|at|during|before|after|since|for|from)\b", re.IGNORECASE)


def resolve_followup(question: str, previous: str) -> str | None:
    """`question` rewritten with `previous`'s speaker, topic or names when it reads as a
    follow-up to it; None when it is a complete question of its own."""
    question = question.strip()
    if not question or not previous.strip():
        return None
    previous = previous.strip()
    if match := _NEW_TOPIC.match(question):
        return _with_topic(previous, match["topic"])
    opener = bool(_OPENER.match(question))
    body = _OPENER.sub("", question).rstrip("?.! ")
    words = _WORD.findall(body)
    if not words:
        return None
    asks_speaker = speaker_phrase(body)
    speaker = speaker_phrase(previous) or _first_name(previous)
    pronoun = _PERSON.search(body)
    # "How old was Abraham Lincoln when he died?": the pronoun's person is named before it.
    if pronoun and speaker and not asks_speaker and not _names(body[: pronoun.start()]):
        return _capitalised(_with_speaker(body, speaker)) + "?"
    topic = _topic(previous)
    if _THING.search(body) and topic and not _names(body) and len(words) <= _REFERENCE_WORDS:
        return _capitalised(_THING.sub(topic, body, count=1)) + "?"
    if opener and asks_speaker and topic and not _topic(body):
        return _capitalised(f"{body} about {topic}") + "?"  # "And what did Psaki say?"
    if len(words) <= _ELLIPTICAL_WORDS and not asks_speaker:
        if _QUESTION_WORD.match(body) or _PREPOSITION.match(body):
            return _capitalised(f"{previous.rstrip('?.! ')}, {body[:1].lower()}{body[1:]}") + "?"
        return _with_topic(previous, body)  # "And Russia?"
    return None


def _with_topic(previous: str, topic: str) -> str:
    """The previous question about `topic` instead. A name replaces the last name of the old
    topic ("the earthquake in Turkey" → "the earthquake in Syria"); anything else replaces the
    whole topic ("export controls" → "Russia")."""
    match = _TOPIC.search(previous)
    start, end = (match.start("topic"), match.end("topic")) if match else (0, len(previous))
    names = list(_NAME.finditer(previous, start, end)) if topic[:1].isupper() else []
    if names and _DETERMINER.sub("", previous[start : names[-1].start()]).strip():
        start, end = names[-1].span()  # "the earthquake in Turkey", not "the UN"
    elif not match:
        return f"{previous.rstrip('?.! ')}, about {topic}?"
    return previous[:start] + topic + previous[end:]


def _with_speaker(body: str, speaker: str) -> str:
    """he/she/they → the speaker; his/her/their → the speaker's."""
    possessive = _POSSESSIVE.sub(f"{speaker}’s", body, count=1)
    if possessive != body:
        return possessive
    return _PERSON.sub(speaker, body, count=1)


def _topic(previous: str) -> str | None:
    match = _TOPIC.search(previous)
    return match["topic"].strip() if match else None


def _names(text: str) -> list[str]:
    return [name for name in _NAME.findall(text) if name not in {"I"}]


def _first_name(previous: str) -> str | None:
    names = _names(previous)
    return names[0] if names else None


def _capitalised(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]
