"""`newsdesk serve --webhook`: the HTTP listener Telegram posts updates to.

python-telegram-bot's own webhook server (tornado) reads the whole body before it looks at
the secret header, accepts bodies up to tornado's 100 MB default and answers invalid JSON with
500. This listener is the same tornado, with the request body streamed, so that everything is
decided on the headers first: a request without the secret (compared in constant time) gets
403 and one declaring more than NEWSDESK_WEBHOOK_MAX_BYTES gets 413, in both cases before a
byte of its body is read; only then is the body read, and JSON that does not parse gets 400.
Updates go to the application's update queue, as in python-telegram-bot's custom-webhook
pattern, so handlers run exactly as they do under long polling.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Deliver = Callable[[dict[str, Any]], Awaitable[None]]

# What Telegram accepts as a secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_secret(settings: Settings) -> str | None:
    """The secret Telegram must send; SettingsError when there is none and none was waived."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if secret:
        if not _SECRET.fullmatch(secret):
            raise SettingsError(
                "NEWSDESK_WEBHOOK_SECRET: use 1-256 letters, digits, _ or - (Telegram's rule)"
            )
        return secret
    if settings.webhook_allow_no_secret:
        logger.warning(
            "the webhook runs without a secret: anyone who can reach it can post updates"
        )
        return None
    raise SettingsError(
        "serve --webhook needs NEWSDESK_WEBHOOK_SECRET (e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or "
        "NEWSDESK_WEBHOOK_ALLOW_NO_SECRET=true if something in front authenticates"
    )


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    secret: str | None
    max_bytes: int
    deliver: Deliver

    def initialize(self, secret: str | None, max_bytes: int, deliver: Deliver) -> None:
        self.secret = secret
        self.max_bytes = max_bytes
        self.deliver = deliver
        self._body = bytearray()

    def prepare(self) -> None:
        """Headers only: the body has not been read yet."""
        if self.request.method != "POST":
            raise tornado.web.HTTPError(405)
        if self.secret is not None:
            given = self.request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                raise tornado.web.HTTPError(403)
        declared = self.request.headers.get("Content-Length", "")
        if not declared.isdigit():
            raise tornado.web.HTTPError(411)  # chunked bodies have no size to check up front
        if int(declared) > self.max_bytes:
            raise tornado.web.HTTPError(413)

    def data_received(self, chunk: bytes) -> None:
        self._body += chunk

    async def post(self) -> None:
        try:
            update = json.loads(bytes(self._body))
        except (ValueError, RecursionError):
            raise tornado.web.HTTPError(400) from None
        if not isinstance(update, dict):
            raise tornado.web.HTTPError(400)
        await self.deliver(update)
        self.set_status(200)

    def log_exception(self, *args: Any) -> None:
        # Refusals are the point of this class, not errors; an unexpected failure still is.
        error = args[1] if len(args) > 1 else None
        if not isinstance(error, tornado.web.HTTPError):
            super().log_exception(*args)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Refused requests at INFO (tornado's own access log would say WARNING for each forged
    post), delivered updates at DEBUG."""
    status = handler.get_status()
    level = logging.DEBUG if status < 400 else logging.INFO
    logger.log(level, "webhook %s from %s", status, handler.request.remote_ip)


class WebhookServer:
    """The listener on `listen`:`port` (port 0: any free one), path `path`."""

    def __init__(self, path: str, secret: str | None, max_bytes: int, deliver: Deliver) -> None:
        options = {"secret": secret, "max_bytes": max_bytes, "deliver": deliver}
        application = tornado.web.Application(
            [(path, _UpdateHandler, options)], log_function=_log_request
        )
        # Bodies are read by their Content-Length only (checked in prepare()); the server's
        # own cap is the same, as a backstop.
        self._server = tornado.httpserver.HTTPServer(application, max_body_size=max_bytes)
        self.port = 0

    def start(self, listen: str, port: int) -> None:
        sockets = tornado.netutil.bind_sockets(port, listen)
        self.port = sockets[0].getsockname()[1]
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
