"""The fake Telegram proves itself against PTB's real Bot and Application over real HTTP."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .fake_telegram import FakeTelegram
from .telegram_html import entity_texts, parse_html

pytestmark = [
    pytest.mark.timeout(30),
    # AIORateLimiter itself reads RetryAfter.retry_after, which PTB 22 flags as deprecated.
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=f"{tg.url}/bot", base_file_url=f"{tg.url}/file/bot") as b:
        yield b


@pytest.fixture
def alice(tg: FakeTelegram) -> dict[str, Any]:
    user = tg.user(1001, "Alice", username="alice")
    tg.send_text(user, "/start")  # a private chat only opens once the user writes
    return user


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


@asynccontextmanager
async def running(
    tg: FakeTelegram, *handlers: Any, max_retries: int = 0
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the fake, started and stopped the way the bot does it."""
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(f"{tg.url}/bot")
        .base_file_url(f"{tg.url}/file/bot")
        # AIORateLimiter retries a 429 only when max_retries > 0; its default is 0.
        .rate_limiter(AIORateLimiter(max_retries=max_retries))
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# ---------------------------------------------------------------------- basics


async def test_get_me(bot: Bot, tg: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "newsdesk_test_bot", True)
    assert tg.calls[0].method == "getMe"


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    bad = Bot("123456:WRONG", base_url=f"{tg.url}/bot")
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await bad.initialize()
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{tg.url}/bot123456:WRONG/getMe")
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_unknown_method_is_404(bot: Bot, tg: FakeTelegram) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("frobnicateMessage")
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{tg.url}/bot{tg.token}/frobnicateMessage")
    assert answer.status_code == 404
    assert answer.json()["description"] == "Not Found: method not found"


async def test_method_names_are_case_insensitive_and_json_bodies_work(
    tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{tg.url}/bot{tg.token}/SENDMESSAGE",
            json={
                "chat_id": alice["id"],
                "text": "<i>hi</i>",
                "parse_mode": "HTML",
                "reply_markup": markup,
            },
        )
        as_query = await http.get(f"{tg.url}/bot{tg.token}/getme?unused=1")
    assert answer.json()["result"]["entities"] == [{"type": "italic", "offset": 0, "length": 2}]
    assert tg.messages(alice["id"])[-1].callback_data == ["more"]
    assert as_query.json()["ok"] is True


async def test_bot_cannot_message_a_user_who_never_wrote(bot: Bot, tg: FakeTelegram) -> None:
    stranger = tg.user(7, "Stranger")
    tg.private_chat(stranger)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(7, "hello")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(8, "hello")


# ---------------------------------------------------------------------- sendMessage + HTML


async def test_html_is_stored_as_text_and_entities(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    html = '😀 <b>Bold &amp; <i>both</i></b> <a href="https://example.com/?a=1&amp;b=2">src</a>'
    sent = await bot.send_message(alice["id"], html, parse_mode=ParseMode.HTML)

    assert sent.text == "😀 Bold & both src"
    # The emoji is two UTF-16 units, so "Bold" starts at 3, not 2.
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 3, 11),
        ("italic", 10, 4),
        ("text_link", 15, 3),
    ]
    assert sent.entities[2].url == "https://example.com/?a=1&b=2"
    stored = tg.messages(alice["id"])[-1]
    assert stored.html == html
    assert stored.formatted("bold") == ["Bold & both"]
    # PTB's own UTF-16 handling agrees with the fake's offsets.
    assert list(sent.parse_entities().values()) == ["Bold & both", "both", "src"]


async def test_length_counts_visible_utf16_units(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice["id"], "x" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice["id"], "😀" * 2049)  # 4098 UTF-16 units
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice["id"], f"<b>{'x' * 4097}</b>", parse_mode=ParseMode.HTML)

    # 4096 visible characters from well over 5000 characters of HTML is fine.
    html = "<b>&amp;</b>" * 400 + "&lt;" * 96 + "y" * 3600
    assert len(html) > 5000
    sent = await bot.send_message(alice["id"], html, parse_mode=ParseMode.HTML)
    assert sent.text is not None
    assert len(sent.text) == 4096


async def test_text_is_trimmed_and_empty_text_rejected(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    sent = await bot.send_message(alice["id"], "  <b> hi</b>\n", parse_mode=ParseMode.HTML)
    assert sent.text == "hi"
    assert [(e.offset, e.length) for e in sent.entities] == [(0, 2)]
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice["id"], "<b> </b>", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<script>alert(1)</script>", 'Unsupported start tag "script"'),
        ("fish & chips", 'unescaped "&"'),
        ("<b>x</i>", "Unmatched end tag"),
    ],
)
async def test_unparsable_html_is_rejected(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any], html: str, reason: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(alice["id"], html, parse_mode=ParseMode.HTML)
    assert raised.value.message.startswith("Can't parse entities: ")
    assert reason.lower() in raised.value.message.lower()
    assert tg.calls[-1].status == 400
    assert tg.messages(alice["id"]) == []


async def test_inline_keyboard_limits(bot: Bot, tg: FakeTelegram, alice: dict[str, Any]) -> None:
    await bot.send_message(alice["id"], "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice["id"], "no", reply_markup=keyboard("é" * 32 + "x"))
    many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await bot.send_message(alice["id"], "no", reply_markup=many)
    with pytest.raises(BadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            alice["id"],
            "no",
            reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("just text")),
        )
    odd = {"inline_keyboard": [[{"text": "a", "callback_data": "b", "colour": "red"}]]}
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{tg.url}/bot{tg.token}/sendMessage",
            json={"chat_id": alice["id"], "text": "no", "reply_markup": odd},
        )
    assert answer.status_code == 400
    assert 'unknown field "colour"' in answer.json()["description"]
    assert len(tg.messages(alice["id"])) == 1


async def test_reply_to_missing_message(bot: Bot, alice: dict[str, Any]) -> None:
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(alice["id"], "re", reply_to_message_id=999)
    sent = await bot.send_message(
        alice["id"], "re", reply_to_message_id=999, allow_sending_without_reply=True
    )
    assert sent.reply_to_message is None


# ---------------------------------------------------------------------- polling


async def test_long_polling_returns_early_and_respects_offset(bot: Bot, tg: FakeTelegram) -> None:
    bob = tg.user(2, "Bob")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()  # it is really waiting

    started = time.monotonic()
    tg.send_text(bob, "/start@newsdesk_test_bot now")
    (update,) = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 1

    assert update.message is not None
    assert update.message.text == "/start@newsdesk_test_bot now"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 24)
    ]
    # Unconfirmed updates come again; an offset past them confirms them.
    assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert await bot.get_updates() == ()


async def test_allowed_updates_filters(bot: Bot, tg: FakeTelegram) -> None:
    bob = tg.user(2, "Bob")
    tg.send_text(bob, "hello")
    tg.inline_query(bob, "news")
    (update,) = await bot.get_updates(allowed_updates=["inline_query"])
    assert update.inline_query is not None


async def test_application_survives_a_429_and_sends_once(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome!")

    carol = tg.user(3, "Carol")
    tg.fail_next("sendMessage", status=429, retry_after=1)
    async with running(tg, CommandHandler("start", start), max_retries=2):
        tg.send_text(carol, "/start")
        reply = await tg.next_bot_message(carol["id"], timeout=10)
    assert reply.text == "Welcome!"
    assert len(tg.messages(carol["id"])) == 1
    sends = tg.calls_to("sendMessage")
    assert [c.status for c in sends] == [429, 200]
    assert sends[1].time - sends[0].time >= 1.0

    # Startup and shutdown went through: getMe, deleteWebhook, polling, and a final
    # getUpdates that confirms the processed update so a restart won't see it again.
    methods = [c.method for c in tg.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    (final,) = [c for c in tg.calls_to("getUpdates") if c.params.get("timeout") == "0"]
    assert final.status == 200
    assert tg.pending_updates == []


async def test_dropped_connection_is_a_network_error(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    tg.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(alice["id"], "lost")
    assert tg.messages(alice["id"]) == []
    # The answer lost after the message went out: a blind retry would send it twice.
    tg.drop_next("sendMessage", after_processing=True)
    with pytest.raises(NetworkError):
        await bot.send_message(alice["id"], "sent anyway")
    assert [m.text for m in tg.messages(alice["id"])] == ["sent anyway"]
    assert [c.status for c in tg.calls_to("sendMessage")] == [None, None]


async def test_fail_next_other_statuses(bot: Bot, tg: FakeTelegram, alice: dict[str, Any]) -> None:
    tg.fail_next("sendChatAction", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_chat_action(alice["id"], "typing")
    assert await bot.send_chat_action(alice["id"], "typing")
    assert tg.chat_actions == [(alice["id"], "typing")]


# ---------------------------------------------------------------------- edits, buttons, inline


async def test_edit_message_text(bot: Bot, tg: FakeTelegram, alice: dict[str, Any]) -> None:
    sent = await bot.send_message(alice["id"], "draft", reply_markup=keyboard("a"))
    edited = await bot.edit_message_text(
        "<b>final</b>",
        alice["id"],
        sent.message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("a"),
    )
    assert isinstance(edited, type(sent))
    assert edited.text == "final"
    assert edited.edit_date is not None
    stored = tg.messages(alice["id"])[0]
    assert [v.text for v in stored.history] == ["draft"]

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>final</b>",
            alice["id"],
            sent.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard("a"),
        )
    # Same text but no reply_markup: Telegram drops the keyboard, so this is a change.
    await bot.edit_message_text("<b>final</b>", alice["id"], sent.message_id, parse_mode="HTML")
    assert stored.reply_markup is None
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice["id"], 999)


async def test_callback_query_round_trip(bot: Bot, tg: FakeTelegram, alice: dict[str, Any]) -> None:
    await bot.send_message(alice["id"], "Pick", reply_markup=keyboard("more:1", "less:1"))
    message = tg.messages(alice["id"])[0]
    with pytest.raises(AssertionError, match="no button"):
        tg.press_button(alice, message, "imaginary")

    query_id = tg.press_button(alice, message, "more:1")
    updates = await bot.get_updates(timeout=1)
    query = updates[-1].callback_query
    assert query is not None
    assert (query.id, query.data) == (query_id, "more:1")
    assert query.message is not None
    assert query.message.message_id == message.message_id

    assert await query.answer("Loading…", show_alert=True)
    assert tg.callback_answers[query_id].text == "Loading…"
    assert tg.callback_answers[query_id].show_alert is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()


async def test_story_a_button_press_edits_the_answer(tg: FakeTelegram) -> None:
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "Answer: <b>the vote is on Sunday.</b>",
            reply_markup=InlineKeyboardMarkup.from_button(
                InlineKeyboardButton("Show source", callback_data="source:42")
            ),
        )

    async def source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("Source: <i>Daily Planet, 2024-05-01</i>", parse_mode="HTML")

    gina = tg.user(8, "Gina")
    handlers = (CommandHandler("ask", ask), CallbackQueryHandler(source, pattern="^source:"))
    async with running(tg, *handlers):
        tg.send_text(gina, "/ask when is the vote?")
        answer = await tg.next_bot_message(gina["id"], timeout=5)
        assert answer.formatted("bold") == ["the vote is on Sunday."]

        query_id = tg.press_button(gina, answer, answer.button_data("Show source"))
        await tg.next_edit(answer, timeout=5)
        await tg.wait_for(lambda: tg.callback_answers.get(query_id), timeout=5)
    assert answer.text == "Source: Daily Planet, 2024-05-01"
    assert answer.buttons == []  # the edit sent no reply_markup, so the keyboard is gone
    assert [v.text for v in answer.history] == ["Answer: the vote is on Sunday."]


async def test_inline_query_round_trip(bot: Bot, tg: FakeTelegram) -> None:
    dave = tg.user(4, "Dave")
    query_id = tg.inline_query(dave, "elections")
    (update,) = await bot.get_updates(timeout=1)
    assert update.inline_query is not None
    assert update.inline_query.query == "elections"

    def article(n: int, html: str = "<b>Result</b>") -> InlineQueryResultArticle:
        content = InputTextMessageContent(html, parse_mode=ParseMode.HTML)
        return InlineQueryResultArticle(
            str(n), f"Result {n}", content, reply_markup=keyboard("open")
        )

    with pytest.raises(BadRequest, match="Results_too_much"):
        await bot.answer_inline_query(query_id, [article(n) for n in range(51)])
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.answer_inline_query(query_id, [article(1, "<b>broken")])
    assert await bot.answer_inline_query(query_id, [article(1), article(2)])
    assert [r["id"] for r in tg.inline_answers[query_id]] == ["1", "2"]
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_inline_query(query_id, [])

    # Choosing a result posts it; its buttons come back with an inline_message_id to edit.
    posted = tg.choose_inline_result(dave, query_id, "2")
    tg.press_button(dave, posted, "open")
    (press,) = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert press.callback_query is not None
    inline_id = press.callback_query.inline_message_id
    assert await bot.edit_message_text("Opened", inline_message_id=inline_id) is True
    assert posted.text == "Opened"


# ---------------------------------------------------------------------- files, commands


async def test_document_upload_and_download(bot: Bot, tg: FakeTelegram) -> None:
    erin = tg.user(5, "Erin")
    content = b"headline,date\nHello,2024-01-01\n" * 100
    tg.send_document(erin, "archive.csv", content, caption="import this")
    (update,) = await bot.get_updates(timeout=1)
    assert update.message is not None
    document = update.message.document
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == (
        "archive.csv",
        "text/csv",
        len(content),
    )
    file = await bot.get_file(document.file_id)
    assert file.file_path is not None
    assert file.file_path.startswith(f"{tg.url}/file/bot{tg.token}/")
    assert bytes(await file.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_bot_sends_a_document(bot: Bot, tg: FakeTelegram, alice: dict[str, Any]) -> None:
    sent = await bot.send_document(
        alice["id"],
        b"answer",
        filename="answer.txt",
        caption="<i>from the archive</i>",
        parse_mode=ParseMode.HTML,
    )
    assert sent.caption == "from the archive"
    assert sent.document is not None
    assert sent.document.file_name == "answer.txt"
    (document,) = tg.documents
    assert (document.filename, document.content) == ("answer.txt", b"answer")
    # The stored file can be sent again by file_id, as on Telegram.
    again = await bot.send_document(alice["id"], sent.document.file_id)
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id


async def test_set_my_commands_validation(bot: Bot, tg: FakeTelegram) -> None:
    commands = [BotCommand("ask", "Ask the archive"), BotCommand("help", "How to use me")]
    assert await bot.set_my_commands(commands)
    assert tg.commands == [
        {"command": "ask", "description": "Ask the archive"},
        {"command": "help", "description": "How to use me"},
    ]
    assert await bot.get_my_commands() == tuple(commands)
    for bad, reason in [
        (BotCommand("Ask", "upper case"), "Bot_command_invalid"),
        (BotCommand("a" * 33, "too long"), "Bot_command_invalid"),
        (BotCommand("ask", " "), "Command description must be non-empty"),
        (BotCommand("ask", "d" * 257), "Bot_command_description_invalid"),
    ]:
        with pytest.raises(BadRequest, match=reason):
            await bot.set_my_commands([bad])
    assert await bot.delete_my_commands()
    assert tg.commands == []


# ---------------------------------------------------------------------- driver behaviour


async def test_group_privacy_mode(tg: FakeTelegram) -> None:
    seen: list[str] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")
        await update.effective_message.reply_text("noted")

    frank = tg.user(6, "Frank")
    group = tg.group_chat(-100123, "Newsroom")
    async with running(tg, MessageHandler(filters.TEXT, record)):
        tg.send_text(frank, "chatter the bot must not see", chat=group)
        tg.send_text(frank, "@newsdesk_test_bot what happened?", chat=group)
        reply = await tg.next_bot_message(group["id"], timeout=5)
        # PTB's reply_text quotes the message in groups (not in private chats).
        assert reply.reply_to_message_id is not None
        tg.send_text(frank, "and then?", chat=group, reply_to=reply)
        await tg.next_bot_message(group["id"], timeout=5)
    assert seen == ["@newsdesk_test_bot what happened?", "and then?"]


async def test_wait_timeouts_say_what_happened(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(alice["id"], "<b>oops", parse_mode="HTML")
    with pytest.raises(TimeoutError) as raised:
        await tg.next_bot_message(alice["id"], timeout=0.2)
    assert "sendMessage -> 400 Bad Request: can't parse entities" in str(raised.value)


async def test_next_bot_message_walks_replies(
    bot: Bot, tg: FakeTelegram, alice: dict[str, Any]
) -> None:
    mark = tg.mark()
    first = await bot.send_message(alice["id"], "one")
    await bot.send_message(alice["id"], "two")
    assert (await tg.next_bot_message(alice["id"], timeout=1)).text == "one"
    assert (await tg.next_bot_message(alice["id"], timeout=1)).text == "two"
    assert (await tg.next_bot_message(alice["id"], after=mark, timeout=1)).text == "one"
    assert (await tg.next_bot_message(alice["id"], after=first.message_id, timeout=1)).text == (
        "two"
    )

    async def later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(alice["id"], "three")

    task = asyncio.create_task(later())
    assert (await tg.next_bot_message(alice["id"], timeout=2)).text == "three"
    await task


# ---------------------------------------------------------------------- parse_html


def check(html: str) -> tuple[str, list[tuple[str, str]]]:
    text, entities = parse_html(html)
    return text, [(e["type"], entity_texts(text, [e], e["type"])[0]) for e in entities]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<b>a <i>b</i></b> c", ("a b c", [("bold", "a b"), ("italic", "b")])),
        ("<strong>s</strong><em>e</em><ins>u</ins><del>d</del>",
         ("seud", [("bold", "s"), ("italic", "e"), ("underline", "u"), ("strikethrough", "d")])),
        ("&lt;tag&gt; &amp; &quot;q&quot; &#123;&#x7D;", ('<tag> & "q" {}', [])),
        ('<a href="x">link</a>', ("link", [("text_link", "link")])),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
         ("st", [("spoiler", "s"), ("spoiler", "t")])),
        ('<pre><code class="language-python">x = 1</code></pre>', ("x = 1", [("pre", "x = 1")])),
        ("<code><b>not bold</b></code>", ("not bold", [("code", "not bold")])),
        ("<blockquote expandable>q</blockquote>", ("q", [("expandable_blockquote", "q")])),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', ("👍", [("custom_emoji", "👍")])),  # noqa: E501
        ("<B>caps</B>", ("caps", [("bold", "caps")])),
        ("<b></b>empty", ("empty", [])),
    ],
)  # fmt: skip
def test_parse_html_accepts(html: str, expected: tuple[str, list[tuple[str, str]]]) -> None:
    assert check(html) == expected


def test_parse_html_details() -> None:
    assert parse_html('<pre><code class="language-python">x</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 1, "language": "python"}
    ]
    assert parse_html('<a href="https://e.com/?q=1&amp;r=2">e</a>')[1][0]["url"] == (
        "https://e.com/?q=1&r=2"
    )
    assert parse_html('<a href="">https://e.com</a>')[1][0]["url"] == "https://e.com"
    assert parse_html("😀<b>x</b>")[1] == [{"type": "bold", "offset": 2, "length": 1}]
    assert parse_html('<code class="language-go">x</code>')[1] == [
        {"type": "code", "offset": 0, "length": 1}
    ]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ('<b class="x">y</b>', 'Unsupported attribute "class" in the tag "b"'),
        ('<a href="x" title="t">y</a>', 'Unsupported attribute "title" in the tag "a"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("<i>x", 'Can\'t find end tag corresponding to start tag "i"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag"),
        ("1 > 0", 'Unescaped ">"'),
        ("&nbsp;", 'Unsupported HTML entity or unescaped "&"'),
        ("&#0;", 'Unsupported HTML entity or unescaped "&"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<br>", 'Unsupported start tag "br"'),
        ("é<p>", 'Unsupported start tag "p" at byte offset 2'),
    ],
)
def test_parse_html_rejects(html: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_html(html)
