"""Time expressions in questions, read against a fixed "today"."""

from __future__ import annotations

import datetime as dt

import pytest

from embeddings.text.when import TimeScope, read_time

TODAY = dt.date(2026, 5, 5)  # a Tuesday
D = dt.date


@pytest.mark.parametrize(
    ("question", "since", "until", "label", "rest"),
    [
        (
            "What did Biden say in 2021?",
            D(2021, 1, 1),
            D(2021, 12, 31),
            "2021",
            "What did Biden say?",
        ),
        (
            "In March 2023, who met Wang Yi?",
            D(2023, 3, 1),
            D(2023, 3, 31),
            "March 2023",
            "Who met Wang Yi?",
        ),
        (
            "What happened on 16 April 2021 in Indianapolis?",
            D(2021, 4, 16),
            D(2021, 4, 16),
            "16 April 2021",
            "What happened in Indianapolis?",
        ),
        (
            "What happened on April 16, 2021?",
            D(2021, 4, 16),
            D(2021, 4, 16),
            "16 April 2021",
            "What happened?",
        ),
        (
            "Which storms hit during the summer of 2024?",
            D(2024, 6, 1),
            D(2024, 8, 31),
            "the summer of 2024",
            "Which storms hit?",
        ),
        (
            "Who was nominated at the end of 2022?",
            D(2022, 9, 1),
            D(2022, 12, 31),
            "the end of 2022",
            "Who was nominated?",
        ),
        (
            "Between 2021 and 2022, what did the Bucharest Nine discuss?",
            D(2021, 1, 1),
            D(2022, 12, 31),
            "2021–2022",
            "What did the Bucharest Nine discuss?",
        ),
        (
            "Between January and March 2022, which nominations?",
            D(2022, 1, 1),
            D(2022, 3, 31),
            "January – March 2022",
            "Which nominations?",
        ),
        (
            "What has Sullivan said about export controls since 2024?",
            D(2024, 1, 1),
            None,
            "since 2024",
            "What has Sullivan said about export controls?",
        ),
        (
            "Before 2023, what did Biden and Xi say?",
            None,
            D(2022, 12, 31),
            "before 2023",
            "What did Biden and Xi say?",
        ),
        (
            "Who met after his December 2021 call?",
            D(2021, 12, 1),
            None,
            "since December 2021",
            "Who met call?",
        ),
        (
            "What was announced after 2022?",
            D(2023, 1, 1),
            None,
            "since 2023",
            "What was announced?",
        ),
        (
            "What did the White House say last week?",
            D(2026, 4, 27),
            D(2026, 5, 3),
            "last week",
            "What did the White House say?",
        ),
        (
            "What was announced this year?",
            D(2026, 1, 1),
            D(2026, 12, 31),
            "2026",
            "What was announced?",
        ),
        (
            "What was announced last month?",
            D(2026, 4, 1),
            D(2026, 4, 30),
            "April 2026",
            "What was announced?",
        ),
    ],
)
def test_periods(
    question: str, since: dt.date | None, until: dt.date | None, label: str, rest: str
) -> None:
    timed = read_time(question, TODAY)
    assert timed.scope == TimeScope(since, until, None, label)
    assert timed.text == rest


@pytest.mark.parametrize(
    ("question", "order", "rest"),
    [
        (
            "What is the latest on the Bucharest Nine?",
            "latest",
            "What is the on the Bucharest Nine?",
        ),
        (
            "At the most recent Sullivan–Wang Yi meeting in the archive, what was planned?",
            "latest",
            "At the Sullivan–Wang Yi meeting, what was planned?",
        ),
        ("What are recent statements on Ukraine?", "latest", "What are statements on Ukraine?"),
        ("What is the Fed doing now?", "latest", "What is the Fed doing?"),
        # "Today" is now, not one day: "still used today" must not empty the answer.
        ("Which translation is still used today?", "latest", "Which translation is still used?"),
        (
            "In the last Biden–Zelenskyy call, what was announced?",
            "latest",
            "In the Biden–Zelenskyy call, what was announced?",
        ),
        (
            "When did NASA mention Artemis for the first time?",
            "earliest",
            "When did NASA mention Artemis?",
        ),
    ],
)
def test_recency_words_prefer_without_filtering(question: str, order: str, rest: str) -> None:
    timed = read_time(question, TODAY)
    assert timed.scope is not None
    assert (timed.scope.order, timed.scope.filters) == (order, False)
    assert timed.text == rest


@pytest.mark.parametrize(
    "question",
    [
        "How many died, 2021 people?",
        "What did the first lady say about schools?",
        "Who won 2021 votes in the primary?",
        "What is the population of Turkey?",
        "Which may be the reason for the delay?",
    ],
)
def test_no_time_where_none_is_said(question: str) -> None:
    assert read_time(question, TODAY).scope is None
    assert read_time(question, TODAY).text == question


def test_an_occasion_dated_by_the_period_leaves_the_main_clause_to_match() -> None:
    timed = read_time("When Biden and Xi met in November 2022, who would visit China?", TODAY)
    assert timed.text == "Who would visit China?"
    # Without a period inside it, the opening clause stays.
    kept = "When Biden and Xi met, who would visit China in 2022?"
    assert read_time(kept, TODAY).text == "When Biden and Xi met, who would visit China?"


def test_an_explicit_period_holds_only_dated_articles_inside_it() -> None:
    scope = read_time("What happened in March 2023?", TODAY).scope
    assert scope is not None
    assert scope.holds("2023-03-31")
    assert not scope.holds("2023-04-01")
    assert not scope.holds(None)  # undated: outside any explicit period
    assert scope.distance("2023-04-10") == 10
    assert scope.distance("2023-02-20") == 9


def test_a_given_period_narrows_the_question_s_own() -> None:
    scope = read_time("What happened in 2023?", TODAY).scope
    assert scope is not None
    narrowed = scope.narrowed(D(2023, 6, 1), None)
    assert (narrowed.since, narrowed.until) == (D(2023, 6, 1), D(2023, 12, 31))
    assert narrowed.label == "June – December 2023"
