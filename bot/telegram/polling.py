"""Long polling that confirms an update to Telegram only after it has been handled.

PTB 22's Updater puts fetched updates on a queue and passes `offset = last id + 1` on its very
next getUpdates, which tells Telegram to forget them while they may still be waiting or
running: a process killed then loses them. Here the offset only moves past an update once
its handler has finished, so after a crash Telegram delivers every unhandled update again.
Updates are handled concurrently; while one is still running, updates after it come back on
each poll and are skipped by id (none is handled twice). Long jobs (/reindex, uploads)
detach from their update, so a slow build never holds the offset back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.telegram.api import Application, RetryAfter, TelegramError, Update

logger = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]


class Poller:
    def __init__(
        self,
        app: App,
        timeout: int = 10,
        allowed_updates: list[str] | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self._app = app
        self._timeout = timeout
        self._allowed = allowed_updates
        self._max_backoff = max_backoff
        self._highest = 0  # the highest update id taken so far
        self._in_flight: dict[int, asyncio.Task[Any]] = {}
        self._progress = asyncio.Event()  # set whenever an update finishes
        self._task: asyncio.Task[None] | None = None

    @property
    def offset(self) -> int | None:
        """What to confirm: everything before the oldest update still being handled."""
        if self._in_flight:
            return min(self._in_flight)
        return self._highest + 1 if self._highest else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="newsdesk:poller")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop asking for updates, let those being handled finish (for up to `grace`
        seconds), then confirm what was handled so a restart does not see it again."""
        if self._task is not None:
            self._task.cancel()
            # Bounded: a long poll cancelled just as its answer arrives was seen (about one
            # shutdown in five, under load) never to finish, and shutdown must not hang on it.
            # Nothing is lost: only handled updates are ever confirmed.
            await asyncio.wait([self._task], timeout=2.0)
            self._task = None
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=grace)
        if self.offset is not None:
            try:
                await asyncio.wait_for(
                    self._app.bot.get_updates(offset=self.offset, timeout=0, limit=1), timeout=5
                )
            except (TelegramError, TimeoutError) as error:  # handled again after a restart
                logger.warning("could not confirm the last updates: %r", error)

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                updates = await self._app.bot.get_updates(
                    offset=self.offset, timeout=self._timeout, allowed_updates=self._allowed
                )
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
                continue
            except TelegramError as error:  # network trouble, 5xx, a conflicting poller
                logger.warning("getUpdates failed (%s); polling again in %.1f s", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = 0.5
            fresh = [u for u in updates if u.update_id > self._highest]
            for update in fresh:
                self._handle(update)
            if updates and not fresh:
                # Only updates still being handled came back: wait until one finishes (or
                # a moment passes) instead of asking again at once.
                self._progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), timeout=0.5)

    def _handle(self, update: Update) -> None:
        update_id = update.update_id
        self._highest = max(self._highest, update_id)
        task = self._app.create_task(self._app.process_update(update), update=update)
        self._in_flight[update_id] = task

        def done(_: asyncio.Task[Any]) -> None:
            self._in_flight.pop(update_id, None)
            self._progress.set()

        task.add_done_callback(done)


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
