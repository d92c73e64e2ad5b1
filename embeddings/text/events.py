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
LABEL_WORDS = 6  # of the event's phrase in the label: "after 26 September 2024 (announcing …)"

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
    rf"(?P<event>(?:{_OPENERS})\s+[^,;:?!]+?)"
    # The event ends where the clause does: punctuation, or the question's own words.
    r"(?=\s*(?:[,;:?!.]|$)|\s+(?:what|who|whom|which|when|where|how|why|did|does|do|was|were|"
    r"is|are|has|have|had|and\s+(?:what|who|which|how))\b)",
    re.IGNORECASE,
)
# What is left of "the start of 2024" when its date is read: nothing that names an event.
_TIME_WORDS = re.compile(
    r"\b(?:the|of|start|beginning|end|middle|part|half|year|month|week|day|time)\b|[\W\d_]+",
    re.IGNORECASE,
)
# "After announcing …, what did he say": a clause opening the question sets its time.
_OPENING = re.compile(
    r"(?P<relation>after|following|since|before)\s+(?P<event>[a-z]+ing\b[^,;:?!]*)(?=,)",
    re.IGNORECASE,
)
_NEXT = re.compile(r"\b(?:next|later|followed|came\s+after|subsequent(?:ly)?)\b", re.IGNORECASE)
# An event is looked up only when its phrase names something: a capitalised word that is not a
# month or a weekday ("the Vienna talks", "their Bali meeting"). "His December 2021 call with
# them" or "the first lady" would match whatever is vaguely similar; "the start of 2024" is a
# date, which `read_time` reads.
_NAME = re.compile(
    r"(?<![\w'’])(?!(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|"
    r"Sat|Sun)[a-z]*\b)[A-Z]"
)


@dataclass(frozen=True, slots=True)
class EventMention:
    relation: Relation
    phrase: str  # "the Vienna talks", "his December 2021 call with them"
    start: int  # the whole expression ("after the Vienna talks") in the question
    end: int
    first_after: bool  # "the summit that followed …", "next": the earliest answer is asked for


def find_event(question: str) -> EventMention | None:
    """The first "after/since/before <event>" in the question: a noun phrase anywhere, or a
    clause opening the question ("After announcing …, what …"). The phrase may still be a date
    in words ("the start of 2024"), which `read_time_with_events` leaves to `read_time`."""
    match = _MENTION.search(question) or _OPENING.match(question)
    if match is None:
        return None
    relation = _RELATIONS[" ".join(match["relation"].lower().split())]
    first_after = relation == "after" and _NEXT.search(question) is not None
    return EventMention(relation, match["event"].strip(), match.start(), match.end(), first_after)


def names_event(phrase: str) -> bool:
    """Whether a phrase as written ("the Vienna talks") names something besides a time."""
    return bool(_NAME.search(_without_opener(phrase)))


def read_time_with_events(
    question: str, today: dt.date, event_date: EventDate | None
) -> TimedQuestion:
    """`read_time`, with a period bounded by an event when the question names one: from its
    day in the archive (`event_date`), or else from the start of the period that dates it."""
    mention = find_event(question) if event_date is not None else None
    if mention is None or event_date is None:
        return read_time(question, today)
    inner = read_time(mention.phrase, today)
    within = inner.scope if inner.scope is not None and inner.scope.filters else None
    name = _without_opener(inner.text if within is not None else mention.phrase)
    if not _TIME_WORDS.sub("", name) or (within is None and not names_event(mention.phrase)):
        # A date in words ("the start of 2024") is read_time's; an undated phrase that names
        # nothing ("the first lady") would match whatever is vaguely similar.
        return read_time(question, today)
    day = event_date(_lookup_text(name), within)
    if day is not None:
        bound = _bound(mention, day)
    elif within is not None:
        bound = _period_bound(mention, within)
    else:
        return read_time(question, today)
    rest = read_time(f"{question[: mention.start]} {question[mention.end :]}", today)
    scope = bound if rest.scope is None else _both(rest.scope, bound)
    if scope.order is None and mention.first_after and day is not None:
        scope = TimeScope(scope.since, scope.until, "earliest", scope.label)
    return TimedQuestion(tidy(rest.text), scope)


def _without_opener(phrase: str) -> str:
    """The phrase without its leading determiner or possessive ("their Bali meeting" → "Bali
    meeting")."""
    return re.sub(rf"^(?:{_OPENERS})\s+", "", phrase.strip(), flags=re.IGNORECASE) or phrase


def _lookup_text(name: str) -> str:
    """What the archive is searched with: "the" and the name ("the Bali meeting"). Bare, two
    capitalised words read as another language to the language identifier ("Bali meeting"), and
    a possessive points at nothing the archive can match."""
    return f"the {_without_opener(name)}"


def _bound(mention: EventMention, day: dt.date) -> TimeScope:
    words = mention.phrase.split()
    phrase = " ".join(words[:LABEL_WORDS]) + (" …" if len(words) > LABEL_WORDS else "")
    named = f"{day.day} {day.strftime('%B %Y')} ({phrase})"
    if mention.relation == "after":
        return TimeScope(day + dt.timedelta(days=1), None, label=f"after {named}")
    if mention.relation == "since":
        return TimeScope(day, None, label=f"since {named}")
    return TimeScope(None, day - dt.timedelta(days=1), label=f"before {named}")


def _period_bound(mention: EventMention, period: TimeScope) -> TimeScope:
    """An event the archive does not place, bounded by the period that dates it: from its
    start (the event may be late in it) or until the day before it."""
    assert period.since is not None  # a period read from a date has a first day
    if mention.relation == "before":
        return TimeScope(None, period.since - dt.timedelta(days=1), label=f"before {period.label}")
    return TimeScope(period.since, None, label=f"since {period.label}")


def _both(read: TimeScope, bound: TimeScope) -> TimeScope:
    """The question's other period (or preference) and the event's bound, together."""
    if not read.filters:
        return TimeScope(bound.since, bound.until, read.order, bound.label)
    narrowed = read.narrowed(bound.since, bound.until)
    return TimeScope(narrowed.since, narrowed.until, read.order, narrowed.label)
