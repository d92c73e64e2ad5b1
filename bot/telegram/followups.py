"""What the bot remembers of each conversation: the last question asked in a chat, and which
answer replies to which question message.

A question that replies to one of our answers, or comes within `window` seconds of the last
answer in its chat, is read as a possible follow-up of that answer's question
(embeddings.text.followup decides whether it is one and rewrites it). An edited question gets
its answer edited, so each question message maps to its answer message. Memory only, bounded:
a restart forgets conversations, as a person would after a break.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.telegram.api import Message

_CAPACITY = 10_000  # question messages remembered across all chats


@dataclass(frozen=True, slots=True)
class Asked:
    question: str  # as searched (a follow-up already resolved)
    answer_id: int  # the message id of our answer
    when: float


class ChatMemory:
    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        self._last: OrderedDict[int, Asked] = OrderedDict()  # chat → its last question
        # (chat, question message id) and (chat, answer message id) → the exchange
        self._by_question: OrderedDict[tuple[int, int], Asked] = OrderedDict()
        self._by_answer: OrderedDict[tuple[int, int], Asked] = OrderedDict()

    def previous(self, message: Message) -> str | None:
        """The question `message` may follow up on: the one whose answer it replies to, else
        the chat's last question when it was answered within the window."""
        chat = message.chat.id
        replied = message.reply_to_message
        if replied is not None and (asked := self._by_answer.get((chat, replied.message_id))):
            return asked.question
        last = self._by_question.get((chat, message.message_id))
        if last is not None:  # an edited question: read against what came before it
            return None
        last = self._last.get(chat)
        if last is not None and self._clock() - last.when <= self._window:
            return last.question
        return None

    def answer_to(self, message: Message) -> int | None:
        """The message id of our answer to `message`, if we answered it."""
        asked = self._by_question.get((message.chat.id, message.message_id))
        return asked.answer_id if asked else None

    def remember(self, message: Message, question: str, answer_id: int) -> None:
        chat = message.chat.id
        asked = Asked(question, answer_id, self._clock())
        for table, key in (
            (self._last, chat),
            (self._by_question, (chat, message.message_id)),
            (self._by_answer, (chat, answer_id)),
        ):
            table[key] = asked  # type: ignore[index]
            table.move_to_end(key)  # type: ignore[arg-type]
            while len(table) > _CAPACITY:
                table.popitem(last=False)
