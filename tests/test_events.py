"""Periods bounded by an event the question names: "after the Vienna talks" reads the talks'
day from a lookup (the archive, in the engine; a table here) against a fixed "today"."""

from __future__ import annotations

import datetime as dt

import pytest

from embeddings.text.events import find_event, read_time_with_events
from embeddings.text.when import TimeScope, read_time

TODAY = dt.date(2026, 5, 5)
D = dt.date
TALKS = D(2023, 5, 12)


class Archive:
    """An event lookup over a table of phrases, remembering what it was asked."""

    def __init__(self, days: dict[tuple[str, TimeScope | None], list[dt.date]]) -> None:
        self.days = days
        self.asked: list[tuple[str, TimeScope | None]] = []

    def __call__(self, phrase: str, within: TimeScope | None) -> list[dt.date]:
        self.asked.append((phrase, within))
        return self.days.get((phrase, within), [])


@pytest.mark.parametrize(
    ("question", "since", "until", "label", "rest"),
    [
        (
            # From the talks' own day: what was said after them is often reported that day.
            "What did they agree after the Vienna talks?",
            TALKS,
            None,
            "since 12 May 2023 (the Vienna talks)",
            "What did they agree after the Vienna talks?",
        ),
        (
            "Following the Vienna talks, who travelled to Kyiv?",
            TALKS,
            None,
            "since 12 May 2023 (the Vienna talks)",
            "Following the Vienna talks, who travelled to Kyiv?",
        ),
        (
            "What has been said about sanctions since the Vienna talks?",
            TALKS,
            None,
            "since 12 May 2023 (the Vienna talks)",
            "What has been said about sanctions since the Vienna talks?",
        ),
        (
            # The question's own period and the event's bound, both.
            "In 2023, what was agreed after the Vienna talks?",
            TALKS,
            D(2023, 12, 31),
            "12 May 2023 – 31 December 2023",
            "What was agreed after the Vienna talks?",
        ),
    ],
)
def test_an_event_in_the_archive_bounds_the_period_and_stays_the_topic(
    question: str, since: dt.date | None, until: dt.date | None, label: str, rest: str
) -> None:
    archive = Archive({("the Vienna talks", None): [TALKS]})
    timed = read_time_with_events(question, TODAY, archive)
    assert timed.scope == TimeScope(since, until, None, label)
    assert timed.text == rest
    assert archive.asked == [("the Vienna talks", None)]


def test_matches_that_disagree_on_the_day_give_the_earliest() -> None:
    # The talks' report, a later article recalling them and an earlier one announcing them.
    days = [TALKS, D(2023, 6, 1), D(2023, 4, 20)]
    question = "What did they agree after the Vienna talks?"
    timed = read_time_with_events(question, TODAY, Archive({("the Vienna talks", None): days}))
    assert timed.scope is not None
    assert (timed.scope.since, timed.scope.until) == (D(2023, 4, 20), None)


def test_the_occasion_that_followed_an_event_prefers_the_earliest_after_it() -> None:
    question = "At the summit that followed their Bali meeting, what did the leaders agree?"
    timed = read_time_with_events(
        question, TODAY, Archive({("the Bali meeting", None): [D(2024, 4, 2), D(2022, 11, 14)]})
    )
    assert timed.scope == TimeScope(
        D(2022, 11, 15), None, "earliest", "after 14 November 2022 (their Bali meeting)"
    )
    assert timed.text == "At the summit, what did the leaders agree?"


def test_an_event_with_its_own_date_is_looked_up_within_that_period() -> None:
    december = read_time("December 2021", TODAY).scope
    archive = Archive({("the call with the Bucharest Nine", december): [D(2021, 12, 10)]})
    question = (
        "Who spoke when Biden next met them after his December 2021 call with the Bucharest Nine?"
    )
    timed = read_time_with_events(question, TODAY, archive)
    assert timed.scope is not None
    assert (timed.scope.since, timed.scope.order) == (D(2021, 12, 11), "earliest")
    assert timed.text == "Who spoke when Biden next met them?"


@pytest.mark.parametrize(
    "question",
    [
        "What did they agree after the Vienna talks?",  # the archive does not know the talks
        "Since the start of 2024, what did Biden call on China to stop?",  # a date, no event
        "After 2022, what was announced?",
        "What did Biden say in March 2023?",
        "Which bridge closed?",
    ],
)
def test_without_a_confident_event_the_question_reads_as_before(question: str) -> None:
    archive = Archive({})
    assert read_time_with_events(question, TODAY, archive) == read_time(question, TODAY)


@pytest.mark.parametrize(
    "question",
    [
        "What happened before the end of the year?",  # a date in words
        "Since the start of 2024, who spoke?",
        "Who spoke after the first lady?",  # undated, and names nothing to look up
        "What was said before the May meeting?",
        "What did the ministers promise before the Vienna talks?",  # before: read_time's
    ],
)
def test_a_phrase_naming_nothing_is_not_looked_up(question: str) -> None:
    archive = Archive({})
    assert read_time_with_events(question, TODAY, archive) == read_time(question, TODAY)
    assert archive.asked == []


def test_a_dated_event_the_archive_does_not_place_is_bounded_by_its_period() -> None:
    archive = Archive({})
    timed = read_time_with_events(
        "When Biden next met them after his December 2021 call, who spoke?", TODAY, archive
    )
    # From the month's first day (the call may be late in it), and no preference for the
    # earliest: without the call's day, the earliest would be the call itself.
    assert timed.scope == TimeScope(D(2021, 12, 1), None, None, "since December 2021")
    assert timed.text == "When Biden next met them, who spoke?"
    assert archive.asked == [("the call", read_time("December 2021", TODAY).scope)]


def test_no_lookup_no_events() -> None:
    question = "What did they agree after the Vienna talks?"
    assert read_time_with_events(question, TODAY, None) == read_time(question, TODAY)
    mention = find_event(question)
    assert mention is not None
    assert (mention.phrase, mention.first_after) == ("the Vienna talks", False)


def test_a_dated_event_loses_only_its_date_from_the_matched_text() -> None:
    april = read_time("April 2024", TODAY).scope
    archive = Archive({("the leaders' call", april): [D(2024, 4, 2)]})
    question = "Who was due to travel to China shortly after the April 2024 leaders' call?"
    timed = read_time_with_events(question, TODAY, archive)
    assert timed.scope == TimeScope(
        D(2024, 4, 2), None, None, "since 2 April 2024 (the April 2024 leaders' call)"
    )
    assert timed.text == "Who was due to travel to China shortly after the leaders' call?"


@pytest.mark.parametrize(
    "question",
    ["Which collective went after the Scientologists' site?", "Who is the ship named after?"],
)
def test_after_in_a_verb_is_no_event(question: str) -> None:
    assert find_event(question) is None
