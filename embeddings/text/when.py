"""Time in a question: the period it asks about, or whether it wants the newest or the first.

`read_time("What did Biden say in March 2023?", today)` gives the question without its time
expression ("What did Biden say?"), which is what gets embedded and matched, and a `TimeScope`
(articles dated 2023-03-01 to 2023-03-31, labelled "March 2023").

Finding the expression is a small set of patterns (a preposition or range word before a date, or
a recency word); reading the date inside it is `dateparser`'s job (month names and their
abbreviations, day/month orders, "16 April 2021" or "April 16, 2021"). The patterns are
deliberately narrow: a bare number is a year only after a time word ("in", "since", "between",
a month…), so "how many died, 2021 people" has no time in it. Relative periods ("last week",
"this year") are calendar periods counted back from `today`, which callers set to the archive's
newest article date when the archive stops earlier than the real today.

Recency words ("latest", "most recent", "now", "today") and "the first time" do not filter: they ask
the ranking to prefer the newest or the earliest of the passages that answer.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Order = Literal["latest", "earliest"]

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?:19|20)\d\d"
# A calendar date or period: "16 April 2021", "April 16, 2021", "March 2023", "2021".
_DATE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+{_YEAR}"
    rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}"
    rf"|{_MONTHS},?\s+{_YEAR}"
    rf"|{_YEAR})"
)
_MONTH_ONLY = rf"(?:{_MONTHS})"
_PART = (
    r"(?:(?P<part>the\s+(?:start|beginning|end|middle)\s+of|early|late|mid-?|"
    r"the\s+(?:spring|summer|autumn|fall|winter)\s+of|(?:spring|summer|autumn|fall|winter)(?:\s+of)?)"
    r"\s*(?:the\s+year\s+)?)?"
)
_UNIT = r"(?P<unit>week|month|year|day)"
_ARCHIVE = r"(?:\s+(?:recorded\s+|published\s+)?(?:in|on)\s+(?:the|this)\s+archive)?"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "between",
            rf"\b(?:between|from)\s+(?P<a>{_DATE}|{_MONTH_ONLY})\s+(?:and|to|until|through)\s+"
            rf"(?P<b>{_DATE})",
        ),
        ("since", rf"\b(?:since|from)\s+(?:the\s+(?:start|beginning)\s+of\s+)?(?P<a>{_DATE})"),
        # "after 2022": from the day after that period; "after the 2011 disaster", "after his
        # December 2021 call": from that period's start (the event may be late in it).
        ("since", rf"\bafter\s+(?:[\w'’-]+\s+){{0,3}}?(?P<a>{_DATE})"),
        ("before", rf"\b(?:before|until|prior\s+to)\s+(?P<a>{_DATE})"),
        ("in", rf"\b(?:in|during|on|of|at|around|throughout)\s+{_PART}(?P<a>{_DATE})"),
        ("in", rf"(?<![\w-]){_PART}(?P<a>{_MONTHS}\s+(?:\d{{1,2}},?\s+)?{_YEAR})"),
        ("relative", rf"\b(?P<which>last|this|past|previous|current)\s+{_UNIT}\b"),
        ("relative", r"\b(?P<which>yesterday)\b"),
    )
)
_LATEST = re.compile(
    r"\b(?:latest|most\s+recent|newest|most\s+recently|recently|recent|"
    r"right\s+now|now|currently|these\s+days|today)\b" + _ARCHIVE,
    re.IGNORECASE,
)
# "the last call" means the newest; "last week" is a period (matched above, first).
_LAST = re.compile(r"(?<=\bthe\s)last\b(?!\s+(?:week|month|year|day|time\s+that))", re.IGNORECASE)
_FIRST = re.compile(
    r"\b(?:for\s+the\s+first\s+time|the\s+first\s+time|first[\s-]ever|(?:the\s+)?earliest)\b"
    + _ARCHIVE,
    re.IGNORECASE,
)
# "the first country ... in the archive": first in the archive's time line.
_FIRST_IN_ARCHIVE = re.compile(r"\bthe\s+first\b(?=.*\b(?:in|on)\s+the\s+archive\b)", re.IGNORECASE)
_OCCASION = re.compile(r"(?:when|as|while|at|during)\b[^,?]*,\s*", re.IGNORECASE)
_IN_ARCHIVE = re.compile(_ARCHIVE.removesuffix("?"), re.IGNORECASE)
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11),
            "winter": (12, 2)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class TimeScope:
    """What a question asks of the articles' dates: a period (`since`..`until`, either open)
    and/or a preference for the newest or earliest passages that answer."""

    since: dt.date | None = None
    until: dt.date | None = None
    order: Order | None = None
    label: str = ""  # "March 2023", "since 2024", "the latest"

    @property
    def filters(self) -> bool:
        return self.since is not None or self.until is not None

    def holds(self, date: str | None) -> bool:
        """Whether an article dated `date` (ISO, or None) is inside the period. An article
        without a date is outside any explicit period: nothing says it belongs there."""
        if not self.filters:
            return True
        if not date:
            return False
        day = date[:10]
        return (self.since is None or day >= self.since.isoformat()) and (
            self.until is None or day <= self.until.isoformat()
        )

    def distance(self, date: str) -> int:
        """Days from an ISO date to the period (0 inside it)."""
        day = dt.date.fromisoformat(date[:10])
        if self.since is not None and day < self.since:
            return (self.since - day).days
        if self.until is not None and day > self.until:
            return (day - self.until).days
        return 0

    def narrowed(self, since: dt.date | None, until: dt.date | None) -> TimeScope:
        """This scope within an explicitly given period (the command line's --since/--until)."""
        low = max(filter(None, (self.since, since)), default=None)
        high = min(filter(None, (self.until, until)), default=None)
        label = self.label if (low, high) == (self.since, self.until) else period_label(low, high)
        return TimeScope(low, high, self.order, label)


@dataclass(frozen=True, slots=True)
class TimedQuestion:
    text: str  # the question without its time expression: what is embedded and matched
    scope: TimeScope | None


def read_time(question: str, today: dt.date) -> TimedQuestion:
    """The question's time expression, read relative to `today`, and the question without it."""
    for kind, pattern in _PATTERNS:
        match = pattern.search(question)
        if match is None:
            continue
        scope = _period(kind, match, today)
        if scope is None:
            continue
        rest = _cut(question, match)
        occasion = _OCCASION.match(question)
        if occasion is not None and match.end() <= occasion.end():
            # "When Biden and Xi met in November 2022, which official …": with the period
            # filtered, the occasion names the article, not the answer; the main clause asks.
            rest = question[occasion.end() :]
        order = _order(rest)
        if order is not None:
            scope = TimeScope(scope.since, scope.until, order[0], scope.label)
            rest = order[1]
        return TimedQuestion(tidy(rest), scope)
    order = _order(question)
    if order is None:
        return TimedQuestion(question, None)
    label = "the latest" if order[0] == "latest" else "the earliest"
    return TimedQuestion(tidy(order[1]), TimeScope(order=order[0], label=label))


def main_clause(question: str) -> str | None:
    """The question after an opening clause that sets its occasion ("When Biden and Xi met,
    who …?" → "Who …?"), or None when it has none."""
    occasion = _OCCASION.match(question)
    if occasion is None or occasion.end() >= len(question):
        return None
    return tidy(question[occasion.end() :])


def _order(question: str) -> tuple[Order, str] | None:
    orders: tuple[tuple[Order, re.Pattern[str]], ...] = (
        ("earliest", _FIRST),
        ("latest", _LATEST),
        ("latest", _LAST),
    )
    for order, pattern in orders:
        match = pattern.search(question)
        if match is not None:
            return order, _IN_ARCHIVE.sub("", _cut(question, match))
    match = _FIRST_IN_ARCHIVE.search(question)
    if match is not None:
        return "earliest", _IN_ARCHIVE.sub("", question)
    return None


def _cut(text: str, match: re.Match[str]) -> str:
    return f"{text[: match.start()]} {text[match.end() :]}"


def tidy(text: str) -> str:
    """A question with an expression cut out: single spaces, no space before punctuation, no
    leading comma, a capital first letter."""
    text = re.sub(r"\s+([,?.!;:])", r"\1", " ".join(text.split()))
    text = re.sub(r"^[,;:]\s*|,(?=[?.!]$)", "", text)
    return text[:1].upper() + text[1:] if text else text


def _period(kind: str, match: re.Match[str], today: dt.date) -> TimeScope | None:
    groups = match.groupdict()
    if kind == "relative":
        return _relative(groups["which"].lower(), (groups.get("unit") or "").lower(), today)
    first = _span(groups["a"], today)
    if first is None:
        return None
    if kind == "between":
        last = _span(groups["b"], today)
        if last is None:
            return None
        if not re.search(_YEAR, groups["a"]):  # "between January and March 2022"
            first = _span(f"{groups['a']} {last[0].year}", today)
            if first is None:
                return None
        return TimeScope(first[0], last[1], label=period_label(first[0], last[1]))
    if kind == "since":
        lead = match.string[match.start() : match.start("a")].split()
        since = _next(first[1]) if [w.lower() for w in lead] == ["after"] else first[0]
        return TimeScope(since, None, label=f"since {_name(since, first[2])}")
    if kind == "before":
        until = first[0] - dt.timedelta(days=1)
        return TimeScope(None, until, label=f"before {groups['a'].strip()}")
    since, until, granularity = first
    part = (groups.get("part") or "").lower()
    if part:
        since, until = _part(part, since, until)
        return TimeScope(since, until, label=f"{' '.join(part.split())} {groups['a'].strip()}")
    return TimeScope(since, until, label=_name(since, granularity))


def _span(text: str, today: dt.date) -> tuple[dt.date, dt.date, str] | None:
    """The first and last day a written date covers, with its granularity."""
    import dateparser

    text = text.strip().rstrip(".")
    if re.fullmatch(_YEAR, text):
        year = int(text)
        return dt.date(year, 1, 1), dt.date(year, 12, 31), "year"
    base = dt.datetime.combine(today, dt.time())
    settings = {"RELATIVE_BASE": base, "PREFER_DAY_OF_MONTH": "first"}
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day = parsed.date()
    if re.search(r"\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTHS + r"|" + _MONTHS + r"\s+\d{1,2}\b", text,
                 re.IGNORECASE) and re.search(_YEAR, text):  # fmt: skip
        return day, day, "day"
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last), "month"


def _part(part: str, since: dt.date, until: dt.date) -> tuple[dt.date, dt.date]:
    """A part of a year or month: its first or last third, middle, or a season."""
    for season, (first, last) in _SEASONS.items():
        if season in part:
            year = since.year  # winter: December of the year before to February
            start = dt.date(year if first != 12 else year - 1, first, 1)
            return start, dt.date(year, last, calendar.monthrange(year, last)[1])
    span = (until - since).days + 1
    third = dt.timedelta(days=span // 3)
    if any(word in part for word in ("start", "beginning", "early")):
        return since, since + third
    if any(word in part for word in ("end", "late")):
        return until - third, until
    return since + third, until - third  # middle, mid


def _relative(which: str, unit: str, today: dt.date) -> TimeScope:
    if which == "yesterday":
        day = today - dt.timedelta(days=1)
        return TimeScope(day, day, label=which)
    back = which in ("last", "previous")
    if which == "past":  # "the past week": a span ending today
        length = {"day": 1, "week": 7, "month": 30, "year": 365}[unit]
        return TimeScope(today - dt.timedelta(days=length), today, label=f"the past {unit}")
    if unit == "day":
        day = today - dt.timedelta(days=back)
        return TimeScope(day, day, label=f"{which} day")
    if unit == "week":
        start = today - dt.timedelta(days=today.weekday() + 7 * back)
        return TimeScope(start, start + dt.timedelta(days=6), label=f"{which} week")
    if unit == "month":
        year, month = (today.year, today.month)
        if back:
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        start = dt.date(year, month, 1)
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        return TimeScope(start, end, label=start.strftime("%B %Y"))
    year = today.year - back
    return TimeScope(dt.date(year, 1, 1), dt.date(year, 12, 31), label=str(year))


def _next(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def _name(since: dt.date, granularity: str) -> str:
    if granularity == "year":
        return str(since.year)
    if granularity == "month":
        return since.strftime("%B %Y")
    return f"{since.day} {since.strftime('%B %Y')}"


def period_label(since: dt.date | None, until: dt.date | None) -> str:
    """A period in words: "2021–2022", "since 1 March 2024", "until 31 December 2022"."""

    def whole_years() -> bool:
        return (
            since is not None
            and until is not None
            and (since.month, since.day, until.month, until.day) == (1, 1, 12, 31)
        )

    if since is not None and until is not None:
        if since.day == 1 and until == _month_end(until) and since.year == until.year:
            if since.month == 1 and until.month == 12:
                return str(since.year)
            return f"{since.strftime('%B')} – {until.strftime('%B %Y')}"
        if whole_years():
            return str(since.year) if since.year == until.year else f"{since.year}–{until.year}"
        return f"{_day(since)} – {_day(until)}"
    if since is not None:
        return f"since {_day(since)}"
    if until is not None:
        return f"until {_day(until)}"
    return ""


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _day(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"
