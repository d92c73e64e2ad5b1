"""Plain text about time that both front ends show: the period searched, the nearest dates
that answer when nothing in it does, and a timeline's entries."""

from __future__ import annotations

from bot.text import citation_parts, human_date
from embeddings import Answer, Result, TimeScope

_PREFERENCES = {"latest": "Newest articles first", "earliest": "Earliest articles first"}


def period_line(scope: TimeScope | None) -> str | None:
    """ "Articles from March 2023", "Articles since 2024", "Newest articles first"; None when
    the question set no period or preference."""
    if scope is None:
        return None
    if not scope.filters:
        return _PREFERENCES[scope.order] if scope.order else None
    label = scope.label
    opens = label.split(" ")[0] in ("since", "after", "before", "until")
    joined = label if opens else f"from {label}"
    return f"Articles {joined}"


def nearest_line(answer: Answer) -> str | None:
    """For a question declined within its period: the dates outside it that do answer."""
    if answer.answered or answer.scope is None or not answer.nearest_dates:
        return None
    dates = ", ".join(filter(None, (human_date(d) for d in answer.nearest_dates)))
    return f"{period_line(answer.scope)}: none answers this. Articles dated {dates} do."


def entry_parts(result: Result) -> tuple[str, str, str]:
    """A timeline entry: its date (or "undated"), its answer sentence, and its citation."""
    cited = " · ".join([result.title, *citation_parts(result)[1:]])
    return human_date(result.date) or "undated", " ".join(result.answer_sentence.split()), cited
