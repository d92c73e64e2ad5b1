"""What a reply says about time: the period searched, the nearest dates that answer, the
timeline, and the Timeline button under an answer that spans several dates."""

from __future__ import annotations

import datetime as dt

from bot.cli.render import json_answer, terminal_answer, terminal_timeline
from bot.i18n import ENGLISH
from bot.telegram.answer_page import answer_page_html
from bot.telegram.buttons import answer_keyboard
from bot.telegram.callback_data import TimelineOf, parse
from bot.telegram.render import timeline_html
from embeddings import Answer, Timeline, TimeScope

from .test_render import result

MARCH = TimeScope(dt.date(2023, 3, 1), dt.date(2023, 3, 31), label="March 2023")


def test_the_period_searched_is_stated_in_every_front_end() -> None:
    answer = Answer("q", True, 0.9, [result()], scope=MARCH)
    assert "<i>Articles from March 2023</i>" in answer_page_html(answer, answer.results)
    assert terminal_answer(answer, str).startswith("Articles from March 2023\n")
    assert json_answer(answer)["period"] == "Articles from March 2023"
    assert json_answer(answer)["results"][0]["date"] == "2023-02-22"


def test_a_period_with_no_answer_offers_the_nearest_dates() -> None:
    answer = Answer("q", False, 0.1, [], scope=MARCH, nearest_dates=("2023-04-10", "2022-11-14"))
    expected = (
        "Articles from March 2023: none answers this. Articles dated 10 Apr 2023, 14 Nov 2022 do."
    )
    assert answer_page_html(answer, []) == expected
    assert expected in terminal_answer(answer, str)
    assert json_answer(answer)["nearest_dates"] == ["2023-04-10", "2022-11-14"]


def test_a_period_after_an_event_is_stated_with_the_event() -> None:
    label = "after 15 November 2022 (their Bali meeting)"
    after = TimeScope(dt.date(2022, 11, 16), None, "earliest", label)
    answer = Answer("q", True, 0.9, [result()], scope=after)
    assert json_answer(answer)["period"] == f"Articles {label}"


def test_a_recency_preference_is_stated_as_an_order() -> None:
    answer = Answer("q", True, 0.9, [result()], scope=TimeScope(order="latest", label="x"))
    assert terminal_answer(answer, str).startswith("Newest articles first\n")


def test_timeline_entries_show_date_sentence_and_source() -> None:
    found = Timeline("What has X said about Y?", None, [result(date="2021-01-02"), result()])
    html = timeline_html(found)
    assert html.startswith("<b>Timeline</b>")
    assert html.index("2 Jan 2021") < html.index("22 Feb 2023")
    assert "The &lt;answer&gt; &amp; more." in html
    text = terminal_timeline(found)
    assert text.splitlines()[2] == "2 Jan 2021  The <answer> & more."


def test_the_timeline_button_only_under_an_answer_spanning_several_dates() -> None:
    def buttons(*dates: str) -> list[str]:
        answer = Answer("q", True, 0.9, [result(date=d) for d in dates])
        keyboard = answer_keyboard("tok", answer, 3, ENGLISH)
        assert keyboard is not None
        return [b.text for row in keyboard.inline_keyboard for b in row]

    assert "Timeline" in buttons("2021-01-02", "2023-02-22")
    assert "Timeline" not in buttons("2023-02-22", "2023-02-22")
    assert parse(TimelineOf("tok").data) == TimelineOf("tok")
