"""Per-user question rate limit: a sliding one-minute window."""

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
        return 0.0
