"""Per-user rate limit on everything that costs a reply (questions, small talk, /help,
/sources): a sliding one-minute window, and one warning per minute to a user over it, so a
flood of messages gets a handful of replies, not one each."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

_WINDOW = 60.0


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}  # when each user was last told to slow down

    def wait_seconds(self, user_id: int) -> float:
        """0 and the question is counted, or how long the user should wait before asking."""
        now = self._clock()
        times = self._seen.setdefault(user_id, deque())
        while times and now - times[0] >= _WINDOW:
            times.popleft()
        if len(times) >= self._limit:
            return _WINDOW - (now - times[0])
        times.append(now)
        if len(self._seen) > 10_000:  # forget users who have gone quiet
            self._seen = {u: t for u, t in self._seen.items() if t and now - t[-1] < _WINDOW}
            self._warned = {u: t for u, t in self._warned.items() if now - t < _WINDOW}
        return 0.0

    def should_warn(self, user_id: int) -> bool:
        """After a refusal: True if the user has not been told to wait within the last minute
        (every later refusal in that minute goes unanswered)."""
        now = self._clock()
        last = self._warned.get(user_id)
        if last is not None and now - last < _WINDOW:
            return False
        self._warned[user_id] = now
        return True
