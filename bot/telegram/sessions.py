"""Per-answer state kept on the server, so inline buttons carry only a short token.

Telegram limits `callback_data` to 64 bytes; a question and its results do not fit. Each
answer gets a random token; buttons say what to do with it ("m:<token>:3"). Sessions expire
after a while and the oldest are dropped beyond a cap, so memory stays bounded.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from embeddings import Answer


@dataclass(slots=True)
class Session:
    answer: Answer  # with more results than one page shows, for "More"
    question_id: int  # row in the bot log, for feedback
    user_id: int
    created: float


class Sessions:
    def __init__(
        self,
        ttl_seconds: float,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._clock = clock
        self._items: OrderedDict[str, Session] = OrderedDict()

    def add(self, answer: Answer, question_id: int, user_id: int) -> str:
        token = secrets.token_urlsafe(6)  # 8 characters
        self._items[token] = Session(answer, question_id, user_id, self._clock())
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return token

    def get(self, token: str) -> Session | None:
        """The live session for `token`, or None when unknown or expired."""
        session = self._items.get(token)
        if session is None:
            return None
        if self._clock() - session.created > self._ttl:
            del self._items[token]
            return None
        return session

    def __len__(self) -> int:
        return len(self._items)
