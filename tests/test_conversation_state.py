"""The bot's conversation state and texts without a server: chat memory for follow-ups and
edits, sessions that outlive the process, inline descriptions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.telegram.followups import ChatMemory
from bot.telegram.inline import description
from bot.telegram.sessions import Sessions
from embeddings import Answer, Result, TimeScope


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def message(chat: int, message_id: int, replying_to: int | None = None) -> Any:
    replied = SimpleNamespace(message_id=replying_to) if replying_to else None
    return SimpleNamespace(chat=SimpleNamespace(id=chat), message_id=message_id,
                           reply_to_message=replied)  # fmt: skip


def test_a_follow_up_is_read_against_the_last_question_in_the_window_or_the_replied_answer() -> (
    None
):
    clock = Clock()
    memory = ChatMemory(window_seconds=600, clock=clock)
    memory.remember(message(1, 10), "What did Wang Yi say about the UN?", answer_id=11)
    memory.remember(message(1, 12), "What did Jake Sullivan say?", answer_id=13)
    assert memory.previous(message(1, 14)) == "What did Jake Sullivan say?"
    assert memory.previous(message(2, 14)) is None  # another chat
    assert memory.previous(message(1, 14, replying_to=11)) == "What did Wang Yi say about the UN?"
    clock.now += 601
    assert memory.previous(message(1, 14)) is None
    assert memory.previous(message(1, 14, replying_to=13)) == "What did Jake Sullivan say?"
    assert memory.answer_to(message(1, 10)) == 11
    assert memory.answer_to(message(1, 99)) is None


RESULT = Result("a1", "Title", "2023-02-22", "https://example.org/a", "Source", 0,
                "Text of the passage.", 0, 4, 1.5, asked="Did it?")  # fmt: skip


def test_sessions_outlive_the_process_and_still_expire(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "bot.sqlite"
    first = Sessions(ttl_seconds=60, clock=clock, path=path)
    answer = Answer("q", answered=True, confidence=0.9, results=[RESULT])
    token = first.add(answer, question_id=3, user_id=7)
    first.close()
    again = Sessions(ttl_seconds=60, clock=clock, path=path)
    session = again.get(token)
    assert session is not None
    assert (session.answer, session.question_id, session.user_id) == (answer, 3, 7)
    clock.now += 61
    assert again.get(token) is None
    again.close()


def test_a_session_keeps_the_period_its_question_named(tmp_path: Path) -> None:
    sessions = Sessions(ttl_seconds=60, clock=Clock(), path=tmp_path / "bot.sqlite")
    scope = TimeScope(dt.date(2023, 3, 1), dt.date(2023, 3, 31), label="March 2023")
    answer = Answer("q", False, 0.1, [RESULT], scope=scope, nearest_dates=("2023-04-10",))
    session = sessions.get(sessions.add(answer, question_id=1, user_id=2))
    assert session is not None
    assert session.answer == answer
    sessions.close()


def test_inline_descriptions_end_at_a_word() -> None:
    text = "Wang Yi said China and Russia bear a very important responsibility " * 5
    cut = description(text, 60)
    assert cut == "Wang Yi said China and Russia bear a very important…"
    assert description("Short sentence.", 60) == "Short sentence."
