"""Periods bounded by an event the question names but does not date.

"What did they agree after the Vienna talks?" asks for articles after a day the question never
says: the archive does. `read_time_with_events` finds "after/following/since/before <event>"
(and "the summit that followed <event>"), asks `event_date` (a callable: the searcher looks the
phrase up in the archive) for the day of that event, and bounds the period by it: after → from
the next day, since → from that day, before → until the day before. The event's words are taken
out of the text that is matched, as a date would be: they name the bound, not the answer.

An event phrase that carries its own date ("after his December 2021 call") is looked up within
that period, so the bound is the call's day rather than the month's first. When the lookup is
not confident, or the phrase names no event ("after the start of 2024"), the question is read
exactly as `read_time` reads it.

"The summit that followed …", "came after …" and "next" ask for the first occasion after the
event: the earliest answer is preferred, as for "the first time".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from embeddings.text.when import TimedQuestion, TimeScope, read_time, tidy

Relation = Literal["after", "since", "before"]

# The day of the archive's article that best matches an event phrase (looked up within the
# period when the phrase dates the event), or None when nothing matches it confidently.
EventDate = Callable[[str, TimeScope | None], dt.date | None]

_RELATIONS: dict[str, Relation] = {
    "after": "after", "following": "after", "followed": "after", "came after": "after",
    "since": "since",
    "before": "before", "prior to": "before", "ahead of": "before", "preceded": "before",
    "came before": "before",
}  # fmt: skip
_OPENERS = r"the|their|his|her|its|this|that|a|an|last\s+\w+'s"
_MENTION = re.compile(
    r"\b(?:(?:that|which)\s+)?(?P<relation>"
    + "|".join(k.replace(" ", r"\s+") for k in _RELATIONS)
    + r")\s+"
    # "after the Vienna talks", "after announcing … that he would convene …"
    rf"(?P<event>(?:(?:{_OPENERS})\s+|[a-z]+ing\s+)[^,;:?!]+?)"
    # The event ends where the clause does: punctuation, or the question's own words.
    r"(?=\s*(?:[,;:?!.]|$)|\s+(?:what|who|whom|which|when|where|how|why|did|does|do|was|were|"
    r"is|are|has|have|had|and\s+(?:what|who|which|how))\b)",
    re.IGNORECASE,
)
_NEXT = re.compile(r"\b(?:next|later|followed|came\s+after|subsequent(?:ly)?)\b", re.IGNORECASE)
# Words that say when but name no event: "after the start of 2024" is a date, not an event.
_NOT_EVENT = re.compile(
    r"\b(?:the|their|his|her|its|this|that|a|an|of|start|beginning|end|middle|year|month|week|"
    r"day|time|spring|summer|autumn|fall|winter|first|last|previous|next)\b|[\W\d_]+",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class EventMention:
    relation: Relation
    phrase: str  # "the Vienna talks", "his December 2021 call with them"
    start: int  # the whole expression ("after the Vienna talks") in the question
    end: int
    first_after: bool  # "the summit that followed …", "next": the earliest answer is asked for


def find_event(question: str) -> EventMention | None:
    """The first "after/since/before <event>" in the question (the phrase may still be a
    date in words, "the start of 2024": see `names_event`)."""
    match = _MENTION.search(question)
    if match is None:
        return None
    relation = _RELATIONS[" ".join(match["relation"].lower().split())]
    first_after = relation == "after" and _NEXT.search(question) is not None
    return EventMention(relation, match["event"].strip(), match.start(), match.end(), first_after)


def names_event(phrase: str) -> bool:
    """Whether a phrase (its date taken out) names something besides a time."""
    return bool(_NOT_EVENT.sub("", phrase))


def read_time_with_events(
    question: str, today: dt.date, event_date: EventDate | None
) -> TimedQuestion:
    """`read_time`, with a period bounded by an undated (or loosely dated) event when the
    question names one and `event_date` finds its day in the archive."""
    mention = find_event(question) if event_date is not None else None
    if mention is None or event_date is None:
        return read_time(question, today)
    inner = read_time(mention.phrase, today)
    within = inner.scope if inner.scope is not None and inner.scope.filters else None
    name = inner.text if within is not None else mention.phrase
    if not names_event(name):
        return read_time(question, today)
    day = event_date(_lookup_text(name), within)
    if day is None:
        return read_time(question, today)
    rest = read_time(f"{question[: mention.start]} {question[mention.end :]}", today)
    bound = _bound(mention, day)
    scope = bound if rest.scope is None else _both(rest.scope, bound)
    if scope.order is None and mention.first_after:
        scope = TimeScope(scope.since, scope.until, "earliest", scope.label)
    return TimedQuestion(tidy(rest.text), scope)


def _lookup_text(name: str) -> str:
    """The phrase as a query: without its leading determiner ("the Vienna talks" → "Vienna
    talks"), which carries nothing to match."""
    return re.sub(rf"^(?:{_OPENERS})\s+", "", name.strip(), flags=re.IGNORECASE) or name


def _bound(mention: EventMention, day: dt.date) -> TimeScope:
    named = f"{day.day} {day.strftime('%B %Y')} ({mention.phrase})"
    if mention.relation == "after":
        return TimeScope(day + dt.timedelta(days=1), None, label=f"after {named}")
    if mention.relation == "since":
        return TimeScope(day, None, label=f"since {named}")
    return TimeScope(None, day - dt.timedelta(days=1), label=f"before {named}")


def _both(read: TimeScope, bound: TimeScope) -> TimeScope:
    """The question's other period (or preference) and the event's bound, together."""
    if not read.filters:
        return TimeScope(bound.since, bound.until, read.order, bound.label)
    narrowed = read.narrowed(bound.since, bound.until)
    return TimeScope(narrowed.since, narrowed.until, read.order, narrowed.label)
