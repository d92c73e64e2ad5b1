"""Rendering: marking, trimming, escaping and splitting under Telegram's limit."""

from __future__ import annotations

from bot.cli.render import json_answer, terminal_answer
from bot.telegram.answer_page import answer_page_html
from bot.telegram.render import result_html, visible_length
from bot.text import trim_around
from embeddings import Answer, Result


def result(text: str = "Intro. The <answer> & more. Outro.", start: int = 7, end: int = 27,
           **fields: object) -> Result:  # fmt: skip
    values: dict[str, object] = {
        "article_id": "a", "title": "T <i>", "date": "2023-02-22", "url": "https://e.org/?a=1&b=2",
        "source": "S", "position": 0, "text": text, "answer_start": start, "answer_end": end,
        "score": 1.0,
    }  # fmt: skip
    values.update(fields)
    return Result(**values)  # type: ignore[arg-type]


def test_trim_around_keeps_the_answer_whole_and_cuts_at_words() -> None:
    text = (
        " ".join(f"w{i}" for i in range(200))
        + " ANSWER HERE. "
        + " ".join(f"v{i}" for i in range(200))
    )
    start = text.index("ANSWER")
    end = start + len("ANSWER HERE.")
    trimmed, a, b = trim_around(text, start, end, 120)
    assert trimmed[a:b] == "ANSWER HERE."
    assert trimmed.startswith("…")
    assert trimmed.endswith("…")
    assert len(trimmed) <= 122
    assert all(part.startswith(("w", "v", "…", "ANSWER", "HERE")) for part in trimmed.split())


def test_short_text_is_not_trimmed() -> None:
    assert trim_around("abc def", 0, 3, 100) == ("abc def", 0, 3)


def test_telegram_html_bolds_the_answer_and_escapes_everything_else() -> None:
    html = result_html(result(), 1)
    assert html.startswith("1. Intro. <b>The &lt;answer&gt; &amp; more.</b> Outro.")
    assert "<i>T &lt;i&gt;</i>" in html
    assert '<a href="https://e.org/?a=1&amp;b=2">link</a>' in html
    assert "22 Feb 2023" in html


def test_a_declined_answer_shows_no_passages() -> None:
    declined = Answer("q", answered=False, confidence=0.1, results=[result()])
    assert "couldn't find" in answer_page_html(declined, [])
    assert "weak match" in terminal_answer(declined, str)


def test_visible_length_counts_utf16_units_after_markup() -> None:
    assert visible_length("<b>a&amp;b</b> 😀") == 6


def test_an_answer_turn_is_shown_with_the_question_it_answers() -> None:
    asked = "Did the issue of the spy balloon come up at all? " + "And more words " * 20
    turn = result("MR. X: It did <not>.", 7, 20, asked=asked)
    plain = result()
    terminal = terminal_answer(Answer("q?", True, 0.9, [turn, plain]), lambda s: f"**{s}**")
    first, second = terminal.split("\n\n")[2:4]
    assert "   Asked: Did the issue of the spy balloon come up at all? And more" in first
    assert first.index("Asked:") < first.index("MR. X: **It did <not>.**")
    assert "Asked" not in second
    asked_line = next(line for line in first.splitlines() if "Asked:" in line)
    assert asked_line.endswith("…")
    assert len(asked_line) <= 3 + 7 + 160 + 1
    html = result_html(turn, 1)
    assert html.startswith("1. <i>Asked: Did the issue of the spy balloon come up at all?")
    assert "MR. X: <b>It did &lt;not&gt;.</b>" in html
    assert json_answer(Answer("q?", True, 0.9, [turn]))["results"][0]["asked"] == asked
    assert json_answer(Answer("q?", True, 0.9, [plain]))["results"][0]["asked"] is None
