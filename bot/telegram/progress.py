"""A chat message that shows the progress of a build, edited at most every few seconds.

The build runs in a worker thread and reports often; the thread only records the latest step,
and a task on the event loop turns it into an edit when the throttle allows. Telegram limits
edits, and a reader gains nothing from more than one every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.telegram.api import Message, TelegramError
from bot.telegram.desk import thread_to
from bot.telegram.render import TELEGRAM_LIMIT, clip, progress_text
from embeddings import BuildProgress

logger = logging.getLogger(__name__)


class StatusMessage:
    def __init__(self, message: Message, interval: float) -> None:
        self._message = message
        self._interval = interval
        self._latest: BuildProgress | None = None
        self._shown = message.text or ""
        self._finished = False
        self._pump = asyncio.create_task(self._run())

    @property
    def message(self) -> Message:
        return self._message

    @classmethod
    async def post(cls, reply_to: Message, text: str, interval: float) -> StatusMessage:
        message = await reply_to.reply_text(text, reply_parameters=thread_to(reply_to))
        return cls(message, interval)

    def update(self, step: BuildProgress) -> None:
        """Record progress; safe to call from any thread (one reference assignment)."""
        self._latest = step

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._latest is not None:
                await self._edit(progress_text(self._latest))

    @contextlib.asynccontextmanager
    async def ending(self, failed: str) -> AsyncIterator[None]:
        """Run the block's job; if it ends without `finish` (an unexpected error, logged here,
        or a cancellation), the message says `failed` instead of its last step forever."""
        try:
            yield
        except Exception:
            logger.exception("%s", failed)
        finally:
            if not self._finished:
                with contextlib.suppress(Exception):  # the message is a courtesy, as in _edit
                    await self.finish(failed)

    async def finish(self, text: str) -> None:
        self._finished = True
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        await self._edit(text)

    async def _edit(self, text: str) -> None:
        text = clip(text, TELEGRAM_LIMIT)  # Telegram counts UTF-16 units: emoji take two
        if text == self._shown:
            return
        try:
            await self._message.edit_text(text)
            self._shown = text
        except TelegramError as error:  # progress is a courtesy: never fail the build over it
            logger.warning("could not update the status message: %s", error)
