"""Outgoing Bot API calls that survive a flaky network or a struggling Telegram.

Telegram has no idempotency keys, so a retry is only safe when the first attempt certainly
did not take effect: the connection was never made, the pool had no free connection, or the
server answered with an error status (5xx). When the request went out and the answer was lost
(read timeout, connection dropped mid-answer) the message may already be in the chat; such a
call is retried only for methods where a second call changes nothing (edits to the same text,
commands, getFile). A sendMessage is then not repeated: the reader sees one answer, not two,
and the update's error handler apologises in case it never arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from bot.telegram.api import AIORateLimiter, BadRequest, NetworkError, TimedOut

logger = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# Calling these twice has the effect of calling them once.
IDEMPOTENT = frozenset(
    {
        "getMe", "getFile", "getUpdates", "getWebhookInfo", "getMyCommands", "setMyCommands",
        "deleteMyCommands", "deleteWebhook", "editMessageText", "editMessageReplyMarkup",
        "sendChatAction",
    }
)  # fmt: skip
# The request never reached Telegram.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def safe_to_retry(error: Exception, endpoint: str) -> bool:
    """Whether repeating the call that raised `error` cannot duplicate its effect."""
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return False  # our request was wrong (or refused): the same again fails the same way
    cause = error.__cause__
    if isinstance(cause, _NOT_SENT):
        return True
    if cause is None and not isinstance(error, TimedOut):
        return True  # Telegram answered with a server error (5xx): nothing was done
    return endpoint in IDEMPOTENT


class RetryingRateLimiter(AIORateLimiter):
    """PTB's flood control (which waits out a 429's retry_after), plus retries with
    exponential backoff for transient network and server errors (see the module docstring)."""

    def __init__(self, attempts: int = 4, first_delay: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._attempts = attempts
        self._first_delay = first_delay

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        delay = self._first_delay
        for attempt in range(1, self._attempts + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as error:
                if attempt == self._attempts or not safe_to_retry(error, endpoint):
                    raise
                logger.warning(
                    "%s failed (%s); retry %d of %d in %.1f s",
                    endpoint, error, attempt, self._attempts - 1, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")
