"""A fake Telegram Bot API server for end-to-end tests of the bot.

It speaks real HTTP on 127.0.0.1, so python-telegram-bot talks to it exactly as it talks to
api.telegram.org (point ``ApplicationBuilder().base_url(f"{tg.url}/bot")`` and
``.base_file_url(f"{tg.url}/file/bot")`` at it). It keeps the state Telegram keeps (chats,
messages, pending updates, files, commands), refuses what Telegram refuses with Telegram's
descriptions, and offers a driver API so a test reads like a user's story::

    async with FakeTelegram() as tg:
        alice = tg.user(1, "Alice")
        tg.send_text(alice, "/start")
        reply = await tg.next_bot_message(alice["id"])

Everything runs on the test's event loop; the driver methods that inject updates are plain
functions, the ones that wait are coroutines with timeouts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from .telegram_html import HtmlParseError, entity_texts, parse_html, trim, utf16_len

_LOGGER = logging.getLogger(__name__)

JSON = dict[str, Any]
T = TypeVar("T")

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
INLINE_KEYBOARD_LIMIT = 100  # buttons
INLINE_RESULTS_LIMIT = 50
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files
UPLOAD_LIMIT = 50 * 1024 * 1024

_TOO_LONG = {MESSAGE_LIMIT: "message is too long", CAPTION_LIMIT: "message caption is too long"}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)

_BUTTON_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
_BUTTON_FIELDS = _BUTTON_ACTIONS | {"text", "style", "icon_custom_emoji_id"}
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# Update types Telegram only sends when allowed_updates asks for them.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{3,32}(?!\w)")
_STATUS_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: POLL_CONFLICT,
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """An error answer: {"ok": false, "error_code": status, "description": ...}."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class ApiCall:
    """One request the bot made, listed when answered; ``time`` is when it arrived and
    ``status`` is None when the connection was dropped instead of answered."""

    method: str
    params: JSON
    time: float
    status: int | None
    description: str | None = None


@dataclass
class MessageVersion:
    """A message's content before an edit replaced it."""

    text: str
    entities: list[JSON]
    html: str | None
    reply_markup: JSON | None
    date: int


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    filename: str
    mime_type: str
    content: bytes


@dataclass
class SentDocument:
    chat_id: int
    filename: str
    content: bytes
    mime_type: str
    caption: str | None


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass(frozen=True)
class Mark:
    """A point in the bot's output; ``next_bot_message(after=mark)`` waits for what follows."""

    seq: int


@dataclass
class BotMessage:
    """A message the bot sent, as the fake stores it (plain text + entities, like Telegram).

    ``html`` is the raw text as sent when parse_mode was HTML, for assertions on formatting;
    ``history`` holds the versions that edits replaced, oldest first.
    """

    chat_id: int | None  # None for messages sent via inline mode
    message_id: int
    date: int
    text: str
    entities: list[JSON]
    html: str | None
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    seq: int
    document: StoredFile | None = None
    inline_message_id: str | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[MessageVersion] = field(default_factory=list)

    @property
    def buttons(self) -> list[JSON]:
        """Inline keyboard buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button_data(self, text: str) -> str:
        """The callback_data of the button labelled ``text`` (handy when data is opaque)."""
        for button in self.buttons:
            if button["text"] == text and "callback_data" in button:
                return str(button["callback_data"])
        raise AssertionError(f"no callback button {text!r} on message {self.message_id}")

    def formatted(self, entity_type: str) -> list[str]:
        """The text of every entity of a type, e.g. ``msg.formatted("bold")``."""
        return entity_texts(self.text, self.entities, entity_type)

    def snapshot(self) -> MessageVersion:
        date = self.edit_date or self.date
        return MessageVersion(self.text, self.entities, self.html, self.reply_markup, date)


@dataclass
class _Upload:
    filename: str
    content: bytes
    content_type: str


@dataclass
class _Fault:
    remaining: int
    status: int | None  # None: close the connection without answering
    description: str = ""
    retry_after: int | None = None
    after_processing: bool = False
    delay: float = 0.0  # answer late instead of failing (see delay_next)


class _Params:
    """Request parameters from the query string and a form, multipart or JSON body.

    PTB sends every value as a string and nested objects (reply_markup, commands, results,
    entities) as JSON inside the string, so getters convert the way the Bot API does.
    """

    def __init__(self, values: JSON, files: dict[str, _Upload]) -> None:
        self.values = values
        self.files = files

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be a valid Number') from None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        try:
            return None if value is None or value == "" else float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be a valid Number') from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def obj(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def recorded(self) -> JSON:
        record = dict(self.values)
        for name, upload in self.files.items():
            record[name] = {"filename": upload.filename, "size": len(upload.content)}
        return record


class FakeTelegram:
    """The fake Bot API server plus the test-side driver API (see module docstring)."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "newsdesk_test_bot",
        *,
        privacy_mode: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        # Like BotFather's default: in groups the bot only sees commands, replies to it and
        # mentions of it.
        self.privacy_mode = privacy_mode
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Newsdesk Test Bot",
            "username": bot_username,
        }
        # What tests inspect.
        self.calls: list[ApiCall] = []  # listed when answered
        self.arrivals: list[str] = []  # method names, listed once each request is read
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.inline_answers: dict[str, list[JSON]] = {}
        self.commands: list[JSON] | None = None  # the last setMyCommands
        self.command_scopes: dict[tuple[str, str], list[JSON]] = {}
        self.documents: list[SentDocument] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.webhook_url = ""
        # Telegram's state.
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._started: set[int] = set()  # users who have talked to the bot
        self._blocked: set[int] = set()
        self._messages: dict[int, dict[int, BotMessage | JSON]] = {}
        self._last_message_id: dict[int, int] = {}
        self._bot_messages: list[BotMessage] = []
        self._inline_messages: dict[str, BotMessage] = {}
        self._files: dict[str, StoredFile] = {}
        self._pending: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._update_ids = itertools.count(10_000)
        self._query_ids = itertools.count(4_000_000_001)
        self._file_ids = itertools.count(1)
        self._seq = 0
        self._read_cursor: dict[int, int] = {}
        self._poll_generation = 0
        # Replaced on every state change; waiters grab the current one and wait on it.
        self._change = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Callable[[_Params], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "sendChatAction": self._send_chat_action,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        _LOGGER.info("fake Telegram listening on %s", self.url)

    async def stop(self) -> None:
        # Long polls still waiting would hold shutdown up; wake them so they answer [] now.
        self._closing = True
        self._changed()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}"

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.time()
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self._record(name, {}, started, 401, "Unauthorized")
            return _error_response(ApiError(401, "Unauthorized"))
        method, handler = self._methods.get(name.lower(), (name, None))
        try:
            params = await _read_params(request)
        except ApiError as error:
            self._record(method, {}, started, error.status, error.description)
            return _error_response(error)
        self.arrivals.append(method)  # received in full: what happens next is up to us
        self._changed()
        if handler is None:
            not_found = ApiError(404, "Not Found: method not found")
            self._record(method, params.recorded(), started, 404, not_found.description)
            return _error_response(not_found)

        fault = self._take_fault(method, after_processing=False)
        if fault is not None and fault.delay:
            try:
                await asyncio.sleep(fault.delay)
            except asyncio.CancelledError:  # aiohttp cancels the handler of a reset connection
                self._record(method, params.recorded(), started, None, "client went away")
                raise
            if request.transport is None or request.transport.is_closing():
                # The client gave up (timed out, or its process died) before we got to it.
                self._record(method, params.recorded(), started, None, "client went away")
                return web.Response()
        elif fault is not None:
            return self._inject(fault, request, method, params, started)
        try:
            result = await handler(params)
        except ApiError as error:
            self._record(method, params.recorded(), started, error.status, error.description)
            return _error_response(error)
        fault = self._take_fault(method, after_processing=True)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)  # done, but answered late: past a client timeout
        elif fault is not None:
            # The request took effect; only the answer is lost, as with a real network cut.
            return self._inject(fault, request, method, params, started)
        self._record(method, params.recorded(), started, 200)
        return web.json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type="application/octet-stream")

    def _inject(
        self, fault: _Fault, request: web.Request, method: str, params: _Params, started: float
    ) -> web.StreamResponse:
        if fault.status is None:
            self._record(method, params.recorded(), started, None)
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never reaches the client: the socket is closed
        error = ApiError(fault.status, fault.description, fault.retry_after)
        self._record(method, params.recorded(), started, error.status, error.description)
        return _error_response(error)

    def _record(
        self, method: str, params: JSON, started: float, status: int | None, desc: str | None = None
    ) -> None:
        self.calls.append(ApiCall(method, params, started, status, desc))
        if status != 200:
            _LOGGER.info("fake Telegram: %s -> %s %s", method, status, desc)
        self._changed()

    def _take_fault(self, method: str, *, after_processing: bool) -> _Fault | None:
        queue = self._faults.get(method.lower())
        if not queue or queue[0].after_processing != after_processing:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        count: int = 1,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` answer with an error (by default flood
        control: 429 "Too Many Requests: retry after N" with parameters.retry_after)."""
        template = description or _STATUS_DESCRIPTIONS.get(status, "Internal Server Error")
        fault = _Fault(
            count,
            status,
            template.format(retry_after=retry_after),
            retry_after if status == 429 else None,
        )
        self._faults.setdefault(self._known_method(method), []).append(fault)

    def drop_next(self, method: str, count: int = 1, *, after_processing: bool = False) -> None:
        """The next ``count`` calls of ``method`` get their connection closed without an
        answer, so the client sees a network error. With ``after_processing`` the call takes
        effect first (e.g. the message is sent), which is what makes blind retries duplicate."""
        fault = _Fault(count, None, after_processing=after_processing)
        self._faults.setdefault(self._known_method(method), []).append(fault)

    def delay_next(
        self, method: str, seconds: float, count: int = 1, *, after_processing: bool = False
    ) -> None:
        """The next ``count`` calls of ``method`` are answered ``seconds`` late, which past
        the client's read timeout is a timeout. Before processing, a call whose client has
        gone by then (timed out, or killed) is never carried out; with ``after_processing``
        it takes effect at once and only the answer is late."""
        fault = _Fault(count, None, after_processing=after_processing, delay=seconds)
        self._faults.setdefault(self._known_method(method), []).append(fault)

    def _known_method(self, method: str) -> str:
        if method.lower() not in self._methods:
            raise ValueError(f"the fake does not implement {method!r}")
        return method.lower()

    # ------------------------------------------------------------------ Bot API methods

    async def _true(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: _Params) -> bool:
        self.webhook_url = params.text("url") or ""
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        self.webhook_url = ""
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _get_updates(self, params: _Params) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        if "allowed_updates" in params:
            # The filter persists until changed; [] means "the default set".
            self._allowed_updates = params.obj("allowed_updates") or None
        if offset:
            # A positive offset confirms everything before it; a negative one keeps the last N.
            if offset > 0:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            else:
                self._pending = self._pending[offset:]
        # Telegram answers an older, still waiting getUpdates with 409 when a new one arrives.
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self._pending = [u for u in self._pending if self._is_allowed(u)]
            if self._pending or self._closing:
                return self._pending[:limit]
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            if not await self._wait_change(deadline):
                return []

    def _is_allowed(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    async def _send_message(self, params: _Params) -> JSON:
        chat_id = self._writable_chat(params)
        text, entities, html = self._formatted(
            params, "text", "entities", MESSAGE_LIMIT, "message text is empty"
        )
        markup = self._reply_markup(params)
        reply_to = self._reply_target(params, chat_id)
        message = self._store_bot_message(
            chat_id, text, entities, html, params.text("parse_mode"), markup, reply_to
        )
        return self._message_json(message)

    async def _edit_message_text(self, params: _Params) -> JSON | bool:
        message = self._editable(params)
        if message.document is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities, html = self._formatted(
            params, "text", "entities", MESSAGE_LIMIT, "message text is empty"
        )
        # No reply_markup in an edit removes the keyboard, as on Telegram.
        markup = self._reply_markup(params, inline_only=True)
        return self._apply_edit(message, text, entities, html, params, markup)

    async def _edit_message_reply_markup(self, params: _Params) -> JSON | bool:
        message = self._editable(params)
        markup = self._reply_markup(params, inline_only=True)
        return self._apply_edit(message, message.text, message.entities, message.html, None, markup)

    def _apply_edit(
        self,
        message: BotMessage,
        text: str,
        entities: list[JSON],
        html: str | None,
        params: _Params | None,
        markup: JSON | None,
    ) -> JSON | bool:
        if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        message.history.append(message.snapshot())
        message.text, message.entities, message.html = text, entities, html
        if params is not None:
            message.parse_mode = params.text("parse_mode")
        message.reply_markup = markup
        message.edit_date = int(time.time())
        self._changed()
        return True if message.inline_message_id else self._message_json(message)

    def _editable(self, params: _Params) -> BotMessage:
        inline_id = params.text("inline_message_id")
        if inline_id:
            if inline_id not in self._inline_messages:
                raise bad_request("MESSAGE_ID_INVALID")
            return self._inline_messages[inline_id]
        chat_id = self._known_chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if not isinstance(message, BotMessage):
            raise bad_request("message can't be edited")
        return message

    async def _delete_message(self, params: _Params) -> bool:
        chat_id = self._known_chat(params)
        message_id = params.integer("message_id")
        message = self._messages.get(chat_id, {}).pop(message_id or 0, None)
        if message is None:
            raise bad_request("message to delete not found")
        if isinstance(message, BotMessage):
            message.deleted = True
        self._changed()
        return True

    async def _send_chat_action(self, params: _Params) -> bool:
        chat_id = self._writable_chat(params)
        action = params.text("action") or ""
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat_id, action))
        self._changed()
        return True

    async def _send_document(self, params: _Params) -> JSON:
        chat_id = self._writable_chat(params)
        stored = self._document_input(params)
        caption, entities, html = self._formatted(
            params, "caption", "caption_entities", CAPTION_LIMIT, None
        )
        markup = self._reply_markup(params)
        reply_to = self._reply_target(params, chat_id)
        message = self._store_bot_message(
            chat_id, caption, entities, html, params.text("parse_mode"), markup, reply_to, stored
        )
        self.documents.append(
            SentDocument(chat_id, stored.filename, stored.content, stored.mime_type, caption)
        )
        return self._message_json(message)

    def _document_input(self, params: _Params) -> StoredFile:
        reference = params.text("document")
        upload = params.files.get("document")
        if reference and reference.startswith("attach://"):
            upload = params.files.get(reference.removeprefix("attach://"))
        elif reference:
            if reference in self._files:
                return self._files[reference]
            if reference.startswith(("http://", "https://")):
                raise bad_request("failed to get HTTP URL content")
            raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is None:
            raise bad_request("there is no document in the request")
        if not upload.content:
            raise bad_request("file must be non-empty")
        return self._store_file(upload.filename, upload.content, upload.content_type)

    async def _get_file(self, params: _Params) -> JSON:
        stored = self._files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._open_callback_queries:
            raise bad_request(QUERY_TOO_OLD)
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callback_queries.discard(query_id)
        self.callback_answers[query_id] = CallbackAnswer(
            text, params.flag("show_alert"), params.text("url"), params.integer("cache_time")
        )
        self._changed()
        return True

    async def _answer_inline_query(self, params: _Params) -> bool:
        query_id = params.text("inline_query_id") or ""
        if query_id not in self._open_inline_queries:
            raise bad_request(QUERY_TOO_OLD)
        results = params.obj("results", "results")
        if not isinstance(results, list):
            raise bad_request("can't parse results JSON object")
        if len(results) > INLINE_RESULTS_LIMIT:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._check_inline_result(result, seen)
        self._open_inline_queries.discard(query_id)
        self.inline_answers[query_id] = results
        self._changed()
        return True

    def _check_inline_result(self, result: Any, seen: set[str]) -> None:
        if not isinstance(result, dict) or not isinstance(result.get("type"), str):
            raise bad_request('can\'t parse InlineQueryResult: Field "type" must be of type String')
        result_id = result.get("id")
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if "reply_markup" in result:
            self._check_markup(result["reply_markup"], inline_only=True)
        if result["type"] == "article":
            if not isinstance(result.get("title"), str) or not result["title"]:
                raise bad_request(
                    'can\'t parse InlineQueryResult: Field "title" must be of type String'
                )
            if not isinstance(result.get("input_message_content"), dict):
                raise bad_request(
                    'can\'t parse InlineQueryResult: Field "input_message_content" must be of '
                    "type Object"
                )
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            # The text is what the chosen result will post, so it is checked like sendMessage.
            content_params = _Params(content, {})
            empty = "message text is empty"
            self._formatted(content_params, "message_text", "entities", MESSAGE_LIMIT, empty)

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.obj("commands", "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            for key in ("command", "description"):
                if not isinstance(command, dict) or not isinstance(command.get(key), str):
                    raise bad_request(f"can't parse BotCommand: Can't find field \"{key}\"")
            if not _COMMAND_NAME.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not command["description"].strip():
                raise bad_request("command description must be non-empty")
            if len(command["description"]) > 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands = [{"command": c["command"], "description": c["description"]} for c in commands]
        self.command_scopes[self._command_scope(params)] = commands
        self.commands = commands
        self._changed()
        return True

    async def _get_my_commands(self, params: _Params) -> list[JSON]:
        return self.command_scopes.get(self._command_scope(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        scope = self._command_scope(params)
        self.command_scopes.pop(scope, None)
        if scope == ('{"type": "default"}', ""):
            self.commands = []
        self._changed()
        return True

    def _command_scope(self, params: _Params) -> tuple[str, str]:
        scope = params.obj("scope", "scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.text("language_code") or ""

    # ------------------------------------------------------------------ validation

    def _known_chat(self, params: _Params) -> int:
        raw = params.text("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        if raw.startswith("@"):
            found = [c for c, chat in self._chats.items() if chat.get("username") == raw[1:]]
            if not found:
                raise bad_request("chat not found")
            return found[0]
        chat_id = params.integer("chat_id")
        if chat_id not in self._chats:
            raise bad_request("chat not found")
        return chat_id

    def _writable_chat(self, params: _Params) -> int:
        chat_id = self._known_chat(params)
        if self._chats[chat_id]["type"] == "private":
            if chat_id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self._started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _formatted(
        self,
        params: _Params,
        text_field: str,
        entities_field: str,
        limit: int,
        empty_error: str | None,
    ) -> tuple[str, list[JSON], str | None]:
        """Text as Telegram stores it: parsed per parse_mode, trimmed, then measured."""
        raw = params.text(text_field) or ""
        mode = (params.text("parse_mode") or "").lower()
        html = None
        if entities_field in params:
            entities = params.obj(entities_field, "entities")
            if not isinstance(entities, list):
                raise bad_request("can't parse entities JSON object")
            text = raw
        elif mode == "html":
            try:
                text, entities = parse_html(raw)
            except HtmlParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
            html = raw
        elif mode:
            # Refuse loudly rather than pretend: this fake only implements HTML.
            raise bad_request(f"the fake Telegram does not implement parse_mode {mode!r}")
        else:
            text, entities = raw, []
        text, entities = trim(text, entities)
        if not text and empty_error is not None:
            raise bad_request(empty_error)
        if utf16_len(text) > limit:
            raise bad_request(_TOO_LONG[limit])
        return text, entities, html

    def _reply_markup(self, params: _Params, *, inline_only: bool = False) -> JSON | None:
        markup = params.obj("reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        self._check_markup(markup, inline_only=inline_only)
        assert isinstance(markup, dict)
        return markup

    def _check_markup(self, markup: Any, *, inline_only: bool) -> None:
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            other = {"keyboard", "remove_keyboard", "force_reply"}
            if inline_only or not other & set(markup):
                raise bad_request("can't parse inline keyboard markup JSON object")
            return
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        if sum(len(row) for row in rows) > INLINE_KEYBOARD_LIMIT:
            raise bad_request("reply markup is too long")
        for button in (button for row in rows for button in row):
            self._check_button(button)

    def _check_button(self, button: Any) -> None:
        if not isinstance(button, dict):
            raise bad_request("can't parse inline keyboard button: Object expected")
        unknown = sorted(set(button) - _BUTTON_FIELDS)
        if unknown:
            raise bad_request(f'can\'t parse inline keyboard button: unknown field "{unknown[0]}"')
        if not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        if not _BUTTON_ACTIONS & set(button):
            raise bad_request("text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
            raise bad_request("BUTTON_URL_INVALID")

    def _reply_target(self, params: _Params, chat_id: int) -> int | None:
        # PTB 22 always sends reply_parameters; plain reply_to_message_id still works on the API.
        reply = params.obj("reply_parameters", "reply parameters") or {}
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = reply.get("message_id", params.integer("reply_to_message_id"))
        if message_id is None:
            return None
        allow_missing = bool(reply.get("allow_sending_without_reply")) or params.flag(
            "allow_sending_without_reply"
        )
        target_chat = int(reply.get("chat_id", chat_id))
        if int(message_id) in self._messages.get(target_chat, {}):
            return int(message_id)
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")

    # ------------------------------------------------------------------ storage

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _store_bot_message(
        self,
        chat_id: int,
        text: str,
        entities: list[JSON],
        html: str | None,
        parse_mode: str | None,
        markup: JSON | None,
        reply_to: int | None,
        document: StoredFile | None = None,
    ) -> BotMessage:
        self._seq += 1
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            text=text,
            entities=entities,
            html=html,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            seq=self._seq,
            document=document,
        )
        self._messages.setdefault(chat_id, {})[message.message_id] = message
        self._bot_messages.append(message)
        self._changed()
        return message

    def _store_file(self, filename: str, content: bytes, mime_type: str | None) -> StoredFile:
        number = next(self._file_ids)
        suffix = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"documents/file_{number}.{suffix}",
            filename=filename,
            mime_type=mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
            content=content,
        )
        self._files[stored.file_id] = stored
        return stored

    def _message_json(self, message: BotMessage, *, nested: bool = False) -> JSON:
        data: JSON = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "date": message.date,
        }
        if message.chat_id is not None:
            data["chat"] = self._chats[message.chat_id]
        text_key, entities_key = ("text", "entities")
        if message.document is not None:
            stored = message.document
            data["document"] = _document_json(stored)
            text_key, entities_key = ("caption", "caption_entities")
        if message.text:
            data[text_key] = message.text
        if message.entities:
            data[entities_key] = message.entities
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edit_date:
            data["edit_date"] = message.edit_date
        if message.reply_to_message_id and message.chat_id is not None and not nested:
            target = self._messages[message.chat_id].get(message.reply_to_message_id)
            if target is not None:
                data["reply_to_message"] = self._as_json(target)
        return data

    def _as_json(self, message: BotMessage | JSON) -> JSON:
        if isinstance(message, BotMessage):
            return self._message_json(message, nested=True)
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    # ------------------------------------------------------------------ change notification

    def _changed(self) -> None:
        event, self._change = self._change, asyncio.Event()
        event.set()

    async def _wait_change(self, deadline: float) -> bool:
        """Waits for the next state change; False once the deadline (loop time) passes."""
        event = self._change
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), remaining)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ driver: users, chats

    def user(
        self,
        user_id: int,
        first_name: str = "Test User",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    def private_chat(self, user: JSON) -> JSON:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        self._chats[chat["id"]] = chat
        return dict(chat)

    def group_chat(self, chat_id: int, title: str) -> JSON:
        """A group the bot is a member of. Telegram group ids are negative; supergroups are
        -100xxxxxxxxxx."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative on Telegram")
        kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        self._chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        return dict(self._chats[chat_id])

    def block_bot(self, user: JSON) -> None:
        """The user blocks the bot: sends to them fail with 403 from now on."""
        self._blocked.add(user["id"])

    # ------------------------------------------------------------------ driver: updates

    def send_text(
        self,
        user: JSON,
        text: str,
        chat: JSON | None = None,
        reply_to: BotMessage | JSON | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """The user sends ``text``; returns the Message. In a group with privacy mode on, the
        bot only gets it if it is a command, mentions the bot or replies to the bot.
        ``entities`` replaces the ones a client would compute (to send odd ones)."""
        if reply_to is not None:
            target_chat = (
                reply_to.chat_id if isinstance(reply_to, BotMessage) else reply_to["chat"]["id"]
            )
            if target_chat != (chat or user)["id"]:
                raise AssertionError(f"message to reply to is in chat {target_chat}, not this one")
        found = _user_entities(text) if entities is None else entities
        message = self._user_message(user, chat, text=text, entities=found)
        if reply_to is not None:
            message["reply_to_message"] = self._as_json(reply_to)
        if self._bot_can_see(message, text):
            self._enqueue({"message": message})
        return message

    def send_document(
        self,
        user: JSON,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        chat: JSON | None = None,
        caption: str | None = None,
    ) -> JSON:
        """The user uploads a file; getFile and the download URL then serve ``content``."""
        stored = self._store_file(filename, content, mime_type)
        return self._send_attachment(user, chat, {"document": _document_json(stored)}, caption)

    def edit_text(self, user: JSON, message: JSON, text: str) -> JSON:
        """The user edits a text message they sent: an ``edited_message`` update with the same
        message id and the new text (the bot sees it if it could see the original)."""
        chat_id = message["chat"]["id"]
        if self._messages.get(chat_id, {}).get(message["message_id"]) is not message:
            raise AssertionError(f"message {message['message_id']} is not a user message here")
        message["text"] = text
        message["entities"] = _user_entities(text)
        message["edit_date"] = int(time.time())
        if not message["entities"]:
            del message["entities"]
        if self._bot_can_see(message, text):
            self._enqueue({"edited_message": message}, chat_id)
        return message

    def send_photo(self, user: JSON, caption: str | None = None, chat: JSON | None = None) -> JSON:
        """The user sends a photo (two sizes, as Telegram sends them), with an optional caption."""
        number = next(self._file_ids)
        sizes = [
            {"file_id": f"AgACAgIAAxkBAAI{number:06d}{side}", "file_unique_id":
             f"AQAD{number:06d}{side}", "width": side, "height": side, "file_size": side * 40}
            for side in (90, 800)
        ]  # fmt: skip
        return self._send_attachment(user, chat, {"photo": sizes}, caption)

    def send_media(self, user: JSON, kind: str, chat: JSON | None = None) -> JSON:
        """The user sends a sticker, voice note, video, video note or audio file."""
        number = next(self._file_ids)
        media: JSON = {"file_id": f"CAACAgIAAxkBAAI{number:06d}", "file_unique_id":
                       f"AgAD{number:06d}"}  # fmt: skip
        shapes: dict[str, JSON] = {
            "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False,
                        "is_video": False, "emoji": "👍"},
            "voice": {"duration": 3, "mime_type": "audio/ogg"},
            "video": {"width": 640, "height": 360, "duration": 5},
            "video_note": {"length": 240, "duration": 5},
            "audio": {"duration": 120, "mime_type": "audio/mpeg"},
        }  # fmt: skip
        if kind not in shapes:
            raise ValueError(f"unknown media kind {kind!r}; one of {sorted(shapes)}")
        return self._send_attachment(user, chat, {kind: {**media, **shapes[kind]}})

    def _send_attachment(
        self, user: JSON, chat: JSON | None, fields: JSON, caption: str | None = None
    ) -> JSON:
        """A user message carrying `fields` (a document, photo or other media) and an optional
        caption, delivered when the bot can see it."""
        if caption:
            fields = {**fields, "caption": caption, "caption_entities": _user_entities(caption)}
        message = self._user_message(user, chat, **fields)
        if self._bot_can_see(message, caption or ""):
            self._enqueue({"message": message})
        return message

    def send_forwarded(self, user: JSON, text: str, origin: JSON, chat: JSON | None = None) -> JSON:
        """The user forwards a message ``origin`` (a user) wrote; entities (a /command) stay."""
        message = self._user_message(
            user,
            chat,
            text=text,
            entities=_user_entities(text),
            forward_origin={"type": "user", "sender_user": origin, "date": int(time.time())},
        )
        if self._bot_can_see(message, text):
            self._enqueue({"message": message})
        return message

    def press_forged_button(self, user: JSON, message: BotMessage, callback_data: str) -> str:
        """What a modified client can do: a callback query from ``message`` with any data
        (up to Telegram's 64 bytes), whether or not the message has such a button."""
        if len(callback_data.encode()) > CALLBACK_DATA_LIMIT:
            raise AssertionError("Telegram refuses callback data over 64 bytes")
        return self.press_button(user, message, callback_data, forged=True)

    def press_button(
        self, user: JSON, message: BotMessage, callback_data: str, *, forged: bool = False
    ) -> str:
        """The user presses the inline button carrying ``callback_data`` on a bot message;
        returns the callback query id. Only buttons the message currently shows can be pressed."""
        if message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted")
        if not forged and callback_data not in message.callback_data:
            raise AssertionError(
                f"message {message.message_id} has no button with callback_data "
                f"{callback_data!r}; its buttons: {message.buttons}"
            )
        if message.chat_id is not None:
            chat = self._chats[message.chat_id]
            if chat["type"] == "private" and chat["id"] != user["id"]:
                raise AssertionError(f"user {user['id']} cannot see chat {chat['id']}")
        self._register_user(user)
        query_id = str(next(self._query_ids))
        query: JSON = {
            "id": query_id,
            "from": user,
            "chat_instance": str(abs(hash((message.chat_id, self.token)))),
            "data": callback_data,
        }
        if message.inline_message_id:
            query["inline_message_id"] = message.inline_message_id
        else:
            query["message"] = self._message_json(message)
        self._open_callback_queries.add(query_id)
        self._enqueue({"callback_query": query}, message.chat_id)
        return query_id

    def inline_query(self, user: JSON, query: str, offset: str = "") -> str:
        """The user types ``@bot query`` in any chat; returns the inline query id."""
        self._register_user(user)
        query_id = str(next(self._query_ids))
        update = {"id": query_id, "from": user, "query": query, "offset": offset}
        self._open_inline_queries.add(query_id)
        self._enqueue({"inline_query": update})
        return query_id

    def choose_inline_result(self, user: JSON, inline_query_id: str, result_id: str) -> BotMessage:
        """The user picks one of the bot's inline results; returns the message that creates,
        editable by its ``inline_message_id`` and pressable like any bot message."""
        results = self.inline_answers.get(inline_query_id)
        if results is None:
            raise AssertionError(f"inline query {inline_query_id} was not answered")
        result = next((r for r in results if r["id"] == result_id), None)
        content = (result or {}).get("input_message_content") or {}
        if "message_text" not in content:
            raise AssertionError(f"no text result {result_id!r} in {results}")
        text, entities, html = self._formatted(
            _Params(content, {}), "message_text", "entities", MESSAGE_LIMIT, None
        )
        assert result is not None
        self._seq += 1
        message = BotMessage(
            chat_id=None,
            message_id=0,
            date=int(time.time()),
            text=text,
            entities=entities,
            html=html,
            parse_mode=content.get("parse_mode"),
            reply_markup=result.get("reply_markup"),
            reply_to_message_id=None,
            seq=self._seq,
            inline_message_id=f"AgAAA{next(self._query_ids)}",
        )
        assert message.inline_message_id is not None
        self._inline_messages[message.inline_message_id] = message
        self._bot_messages.append(message)
        self._changed()
        return message

    def _register_user(self, user: JSON) -> None:
        self._users.setdefault(user["id"], user)

    def _user_message(self, user: JSON, chat: JSON | None, **fields: Any) -> JSON:
        self._register_user(user)
        if chat is None:
            chat = self.private_chat(user)
        self._chats.setdefault(chat["id"], chat)
        if chat["type"] == "private":
            self._started.add(user["id"])
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "from": user,
            "chat": self._chats[chat["id"]],
            "date": int(time.time()),
        }
        message.update({k: v for k, v in fields.items() if v})
        self._messages.setdefault(chat["id"], {})[message["message_id"]] = message
        return message

    def _bot_can_see(self, message: JSON, text: str) -> bool:
        if message["chat"]["type"] == "private" or not self.privacy_mode:
            return True
        reply = message.get("reply_to_message") or {}
        if reply.get("from", {}).get("id") == self.bot_user["id"]:
            return True
        name = self.bot_username.lower()
        for match in _BOT_COMMAND.finditer(text):
            _, _, target = match.group().partition("@")
            if target.lower() in ("", name):
                return True
        mentions = {m.group()[1:].lower() for m in _MENTION.finditer(text)}
        if name in mentions:
            return True
        _LOGGER.info("privacy mode: the bot does not see %r in %s", text, message["chat"]["id"])
        return False

    def _enqueue(self, payload: JSON, chat_id: int | None = None) -> None:
        update = {"update_id": next(self._update_ids), **payload}
        self._pending.append(update)
        if chat_id is None and "message" in payload:
            chat_id = payload["message"]["chat"]["id"]
        if chat_id is not None:
            # The default "next bot message" is one sent after this user action.
            self._read_cursor[chat_id] = max(self._read_cursor.get(chat_id, 0), self._seq)
        self._changed()

    # ------------------------------------------------------------------ driver: inspecting

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """Messages the bot sent to the chat, oldest first."""
        return [
            m
            for m in self._bot_messages
            if m.chat_id == chat_id and (include_deleted or not m.deleted)
        ]

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def mark(self) -> Mark:
        """A point in the bot's output to wait after: ``next_bot_message(chat, after=mark)``."""
        return Mark(self._seq)

    def describe(self, chat_id: int | None = None) -> str:
        """What the fake has seen, for failure messages."""
        lines = []
        chats = [chat_id] if chat_id is not None else sorted(self._messages)
        for chat in chats:
            lines.append(f"bot messages in chat {chat}:")
            for m in self.messages(chat, include_deleted=True):
                flags = " (deleted)" if m.deleted else ""
                flags += f" (edited {len(m.history)}x)" if m.history else ""
                buttons = f" buttons={m.callback_data}" if m.buttons else ""
                lines.append(f"  #{m.message_id}{flags}: {m.text[:120]!r}{buttons}")
        lines.append(f"pending updates: {len(self._pending)}")
        interesting = [c for c in self.calls if c.method != "getUpdates" or c.status != 200]
        lines.append(f"last API calls (of {len(self.calls)}, successful getUpdates omitted):")
        for call in interesting[-20:]:
            if call.status is None:
                lines.append(f"  {call.method} -> connection dropped")
            else:
                detail = f" {call.description}" if call.description else ""
                lines.append(f"  {call.method} -> {call.status}{detail}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ driver: waiting

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 30.0, what: str | None = None
    ) -> T:
        """Waits until ``predicate()`` is truthy (re-checked on every state change) and
        returns its value; raises TimeoutError describing what the fake received."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if not await self._wait_change(deadline):
                value = predicate()
                if value:
                    return value
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what or predicate}\n"
                    + self.describe()
                )

    async def next_bot_message(
        self,
        chat_id: int,
        after: int | BotMessage | JSON | Mark | None = None,
        timeout: float = 30.0,
    ) -> BotMessage:
        """The next message the bot sends to the chat.

        ``after`` may be a message id, a message (the bot's or a user's) or a ``Mark``. By
        default it is "after the last user action in this chat or the last message this method
        returned", so consecutive calls walk through the bot's replies one by one.
        """
        floor_seq = self._read_cursor.get(chat_id, 0)
        floor_id = 0
        if isinstance(after, Mark):
            floor_seq = after.seq
        elif isinstance(after, BotMessage):
            floor_seq, floor_id = 0, after.message_id
        elif isinstance(after, dict):
            floor_seq, floor_id = 0, int(after["message_id"])
        elif after is not None:
            floor_seq, floor_id = 0, after

        def find() -> BotMessage | None:
            return next(
                (
                    m
                    for m in self._bot_messages
                    if m.chat_id == chat_id and m.seq > floor_seq and m.message_id > floor_id
                ),
                None,
            )

        message = await self.wait_for(find, timeout, f"a bot message in chat {chat_id}")
        self._read_cursor[chat_id] = max(self._read_cursor.get(chat_id, 0), message.seq)
        return message

    async def next_edit(self, message: BotMessage, timeout: float = 30.0) -> BotMessage:
        """Waits until the message is edited once more than it is now."""
        edits = len(message.history)
        return await self.wait_for(
            lambda: message if len(message.history) > edits else None,
            timeout,
            f"an edit of message {message.message_id}",
        )


# ---------------------------------------------------------------------- helpers


async def _read_params(request: web.Request) -> _Params:
    values: JSON = dict(request.query)
    files: dict[str, _Upload] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON encoded request")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                files[name] = _Upload(value.filename, content, value.content_type)
            elif isinstance(value, bytes):
                values[name] = value.decode()
            else:
                values[name] = value
    return _Params(values, files)


def _error_response(error: ApiError) -> web.Response:
    body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.status)


def _document_json(stored: StoredFile) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.filename,
        "mime_type": stored.mime_type,
        "file_size": len(stored.content),
    }


def _user_entities(text: str) -> list[JSON]:
    """The entities Telegram detects in what a user types: bot commands and @mentions."""
    found = [("bot_command", m) for m in _BOT_COMMAND.finditer(text)]
    found += [("mention", m) for m in _MENTION.finditer(text)]
    entities = [
        {
            "type": kind,
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for kind, match in found
    ]
    return sorted(entities, key=lambda e: e["offset"])
