"""Periods bounded by an event the question names but does not date.

"What did they say after the Vienna talks?" asks for articles from a day the question never
says: the archive does. `read_time_with_events` finds "after/following/since <event>" (and "the
summit that followed <event>"), asks `event_days` (a callable: the searcher looks the phrase up
in the archive) on which days the archive confidently reports it, and bounds the period by that
day.

- The bound includes the event's own day, and the event stays in the text that is matched:
  "what did the official say after the Vienna talks" is answered by the talks' reporting. Only
  "the summit that followed …", "came after …", "next", "later" (the next occasion, never the
  event itself) start the day after, take the event's words out of the matched text (they name
  another occasion) and prefer the earliest answer.
- When the archive's matches disagree on the day, the earliest is taken: articles that mention
  an event ("building on their Bali meeting") come after it and often name it more plainly than
  its own report. A phrase with its own date ("after his December 2021 call") is looked up
  within that period, where the best match is taken.
- When the archive does not confidently report the event, a dated phrase bounds from its
  period's start (the event may be late in it), and an undated one is read exactly as
  `read_time` reads it, as is a phrase that is only a date in words ("after the start of 2024").
- "Before <event>" is left to `read_time`: in news it asks about the event's own reporting
  ("before their April 2024 call, when had they last spoken"), and a bound up to the event lets
  in every earlier article on the topic (docs/time.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from embeddings.text.when import TimedQuestion, TimeScope, read_time, tidy

LABEL_WORDS = 6  # of the event's phrase in the label: "after 26 September 2024 (announcing …)"

# The days of the archive's passages that confidently match an event phrase, best match first
# (looked up within the period when the phrase dates the event); empty when none does.
EventDays = Callable[[str, TimeScope | None], Sequence[dt.date]]

_OPENERS = r"the|their|his|her|its|this|that|a|an|last\s+\w+'s"
_MENTION = re.compile(
    r"\b(?:(?:that|which)\s+)?(?P<relation>after|following|followed|came\s+after|since)\s+"
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
# "Went after the Scientologists' site", "named after the senator": "after" in a verb.
_PHRASAL = re.compile(
    r"\b(?:go|goes|going|gone|went|come|comes|coming|look|looks|looking|looked|named|run|runs|"
    r"ran|running|chase|chased|take|takes|took|ask|asked|asking)\s+$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# "After announcing …, what did he say": a clause opening the question sets its time.
_OPENING = re.compile(
    r"(?P<relation>after|following|since)\s+(?P<event>[a-z]+ing\b[^,;:?!]*)(?=,)",
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
    phrase: str  # "the Vienna talks", "his December 2021 call with them"
    start: int  # the whole expression ("after the Vienna talks") in the question
    end: int
    first_after: bool  # "the summit that followed …", "next": the earliest answer is asked for


def find_event(question: str) -> EventMention | None:
    """The first "after/following/since <event>" in the question: a noun phrase anywhere, or a
    clause opening the question ("After announcing …, what …"). The phrase may still be a date
    in words ("the start of 2024"), which `read_time_with_events` leaves to `read_time`."""
    match = next(
        (m for m in _MENTION.finditer(question) if not _PHRASAL.search(question[: m.start()])),
        None,
    ) or _OPENING.match(question)
    if match is None:
        return None
    since = match["relation"].lower() == "since"
    first_after = not since and _NEXT.search(question) is not None
    return EventMention(match["event"].strip(), match.start(), match.end(), first_after)


def names_event(phrase: str) -> bool:
    """Whether a phrase as written ("the Vienna talks") names something besides a time."""
    return bool(_NAME.search(_without_opener(phrase)))


def read_time_with_events(
    question: str, today: dt.date, event_days: EventDays | None
) -> TimedQuestion:
    """`read_time`, with a period bounded by an event when the question names one: by its day
    in the archive (`event_days`), or else by the period that dates it."""
    mention = find_event(question) if event_days is not None else None
    if mention is None or event_days is None:
        return read_time(question, today)
    inner = read_time(mention.phrase, today)
    within = inner.scope if inner.scope is not None and inner.scope.filters else None
    name = _without_opener(inner.text if within is not None else mention.phrase)
    if (
        not _TIME_WORDS.sub("", name)
        or (within is None and not names_event(mention.phrase))
        or (within is None and _YEAR.search(mention.phrase))
    ):
        # A date in words ("the start of 2024") is read_time's; an undated phrase that names
        # nothing ("the first lady") would match whatever is vaguely similar; a year that is
        # not read as a period ("the 1991 war") may be older than anything the archive holds.
        return read_time(question, today)
    days = event_days(_lookup_text(name), within)
    day = _day_of(days, within is not None)
    if day is not None:
        bound = _bound(mention, day)
    elif within is not None:
        bound = _period_bound(within)
    else:
        return read_time(question, today)
    rest = read_time(_matched(question, mention, inner.text if within else None), today)
    scope = bound if rest.scope is None else _both(rest.scope, bound)
    if scope.order is None and mention.first_after and day is not None:
        scope = TimeScope(scope.since, scope.until, "earliest", scope.label)
    return TimedQuestion(tidy(rest.text), scope)


def _matched(question: str, mention: EventMention, undated: str | None) -> str:
    """The question as it will be matched. "The summit that followed their Bali meeting": the
    event names another occasion, so its words go. "What did the official say after the
    Vienna talks": the talks are the topic (their reporting answers), so only the phrase's
    date goes (`undated`: the phrase without it)."""
    if mention.first_after:
        return f"{question[: mention.start]} {question[mention.end :]}"
    if undated is None:
        return question
    start = mention.end - len(mention.phrase)
    kept = undated[:1].lower() + undated[1:] if mention.phrase[:1].islower() else undated
    return f"{question[:start]}{kept}{question[mention.end :]}"


def _without_opener(phrase: str) -> str:
    """The phrase without its leading determiner or possessive ("their Bali meeting" → "Bali
    meeting")."""
    return re.sub(rf"^(?:{_OPENERS})\s+", "", phrase.strip(), flags=re.IGNORECASE) or phrase


def _lookup_text(name: str) -> str:
    """What the archive is searched with: "the" and the name ("the Bali meeting"). Bare, two
    capitalised words read as another language to the language identifier ("Bali meeting"), and
    a possessive points at nothing the archive can match."""
    return f"the {_without_opener(name)}"


def _day_of(days: Sequence[dt.date], dated: bool) -> dt.date | None:
    """The event's day from the days its matches are dated (best first): the best within a
    period the phrase dates; else the earliest."""
    if not days:
        return None
    if dated:
        return days[0]
    return min(days)


def _bound(mention: EventMention, day: dt.date) -> TimeScope:
    words = mention.phrase.split()
    phrase = " ".join(words[:LABEL_WORDS]) + (" …" if len(words) > LABEL_WORDS else "")
    named = f"{day.day} {day.strftime('%B %Y')} ({phrase})"
    if mention.first_after:
        return TimeScope(day + dt.timedelta(days=1), None, label=f"after {named}")
    return TimeScope(day, None, label=f"since {named}")


def _period_bound(period: TimeScope) -> TimeScope:
    """An event the archive does not place, bounded by the period that dates it: from its
    start (the event may be late in it)."""
    return TimeScope(period.since, None, label=f"since {period.label}")


def _both(read: TimeScope, bound: TimeScope) -> TimeScope:
    """The question's other period (or preference) and the event's bound, together."""
    if not read.filters:
        return TimeScope(bound.since, bound.until, read.order, bound.label)
    narrowed = read.narrowed(bound.since, bound.until)
    return TimeScope(narrowed.since, narrowed.until, read.order, narrowed.label)
