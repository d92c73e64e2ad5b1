"""Telegram handlers: parse the update, call the engine off the event loop, reply.

Every engine call goes through `asyncio.to_thread`: encoding and FAISS search are CPU work and
must never stall the other chats this process is serving.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.telegram import render
from bot.telegram.api import (
    ChatType,
    ContextTypes,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ParseMode,
    TelegramError,
    Update,
)
from bot.telegram.botlog import BotLog
from bot.telegram.progress import StatusMessage
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.sessions import Session, Sessions
from embeddings import Answer, BuildSummary, Engine, IndexStats, NewsdeskError, QuestionError
from embeddings.feeds.poller import FeedPoller, add_feed, feed_list, refresh, remove_feed

logger = logging.getLogger(__name__)

SESSION_RESULTS = 15  # results kept per question for "More"
INLINE_RESULTS = 5
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # the citation link is enough; no big card

Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


@dataclass
class Desk:
    """What the handlers work with, assembled once in `bot.telegram.app`."""

    engine: Engine
    log: BotLog
    data_dir: Path
    admin_ids: frozenset[int]
    per_page: int
    upload_max_bytes: int
    progress_edit_seconds: float
    sessions: Sessions
    limiter: RateLimiter
    poller: FeedPoller
    feeds: tuple[str, ...] = ()  # from NEWSDESK_FEEDS; feeds.txt is read at each poll
    indexing: asyncio.Lock = field(default_factory=asyncio.Lock)
    compacting: bool = False  # the lock is held by a compaction, not by an admin's build

    async def feed_urls(self) -> list[str]:
        return await asyncio.to_thread(feed_list, self.data_dir, self.feeds)


def desk(context: Context) -> Desk:
    value = context.bot_data["desk"]
    assert isinstance(value, Desk)
    return value


async def _stats(engine: Engine) -> IndexStats | None:
    return await asyncio.to_thread(engine.stats) if engine.has_index() else None


# --------------------------------------------------------------------------- everyone


async def start(update: Update, context: Context) -> None:
    """/start and /help: what the archive holds and how to ask."""
    stats = await _stats(desk(context).engine)
    await _reply(update, render.help_html(stats, context.bot.username))


async def sources(update: Update, context: Context) -> None:
    """/sources: what is indexed, by source, the newest article, and each feed's status."""
    d = desk(context)
    stats = await _stats(d.engine)
    text = render.sources_html(stats) if stats else "The archive is empty."
    urls = await d.feed_urls()
    if urls:
        states = await asyncio.to_thread(d.poller.status, urls)
        text += "\n\n" + render.feeds_html(states)
    await _reply(update, text)


async def ask_command(update: Update, context: Context) -> None:
    """/ask QUESTION, in any chat."""
    await answer(update, context, " ".join(context.args or []))


async def text_message(update: Update, context: Context) -> None:
    """Private chat: every message is a question. Groups: only mentions and replies to us."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.chat.type == ChatType.PRIVATE:
        await answer(update, context, message.text)
        return
    username = f"@{context.bot.username}".lower()
    mentions = [
        text
        for entity, text in message.parse_entities([MessageEntity.MENTION]).items()
        if text.lower() == username
    ]
    replied = message.reply_to_message
    if mentions or (replied and replied.from_user and replied.from_user.id == context.bot.id):
        question = message.text
        for mention in mentions:
            question = question.replace(mention, " ")
        await answer(update, context, question)


async def answer(update: Update, context: Context, question: str) -> None:
    """Search the archive for `question` and reply with one page of the answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    d = desk(context)
    if not question.strip() or is_small_talk(question):
        await start(update, context)
        return
    wait = d.limiter.wait_seconds(user.id)
    if wait:
        await _reply(update, f"You're asking faster than I can read — try again in {wait:.0f} s.")
        return
    try:
        question = d.engine.check_question(question)
    except QuestionError as error:
        await _reply(update, f"Sorry, {render.escape(str(error))}.")
        return
    # No "typing…" action: a search takes tens of milliseconds, and under a burst of questions
    # the extra request per answer costs every reader seconds of Telegram's flood budget
    # (measured: p50 8.3 s with it, 5.0 s without, for 200 questions at once).
    started = time.perf_counter()
    result = await asyncio.to_thread(d.engine.search, question, SESSION_RESULTS)
    latency = (time.perf_counter() - started) * 1000.0
    question_id = await asyncio.to_thread(
        d.log.record_question, user.id, message.chat.id, result, latency
    )
    token = d.sessions.add(result, question_id, user.id)
    page = result.results[: d.per_page] if result.answered else []
    await _reply(update, render.answer_html(result, page), _answer_keyboard(token, result, d))


# Chat openers and thank-yous are not questions: searching the archive for "hi" finds a
# transcript that says "Hi, everybody", which helps no one.
_SMALL_TALK = frozenset(
    {
        "hi", "hello", "hey", "hiya", "yo", "there", "thanks", "thank", "you", "thx", "ok",
        "okay", "cool", "great", "good", "morning", "evening", "afternoon", "bye", "goodbye",
        "cheers",
    }
)  # fmt: skip


def is_small_talk(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return bool(words) and len(words) <= 3 and all(word in _SMALL_TALK for word in words)


def _answer_keyboard(token: str, result: Answer, d: Desk) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if result.answered:
        first_row = [InlineKeyboardButton("Full article", callback_data=f"f:{token}")]
        if len(result.results) > d.per_page:
            first_row.insert(
                0, InlineKeyboardButton("More", callback_data=f"m:{token}:{d.per_page}")
            )
        rows.append(first_row)
    elif result.results:
        rows.append([InlineKeyboardButton("Show closest matches", callback_data=f"m:{token}:0")])
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=f"v:{token}:1"),
            InlineKeyboardButton("👎", callback_data=f"v:{token}:-1"),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def button(update: Update, context: Context) -> None:
    """Inline buttons under an answer: More, Full article, closest matches, 👍/👎."""
    query = update.callback_query
    if query is None or not query.data:
        return
    action, _, rest = query.data.partition(":")
    token, _, argument = rest.partition(":")
    # Callback data comes back from the client, which may be modified: only the exact shapes
    # this bot writes are acted on (see _answer_keyboard and _send_page).
    known = (
        (action == "v" and argument in ("1", "-1"))
        or (action == "m" and argument.isdigit() and len(argument) <= 3)
        or (action == "f" and not argument)
    )
    if not known:
        logger.info("ignored unknown callback data from user %s", query.from_user.id)
        await query.answer("I don't know that button.")
        return
    d = desk(context)
    session = d.sessions.get(token)
    if session is None:
        await query.answer("This answer has expired — please ask the question again.")
        return
    if action == "v":
        vote = int(argument)
        await asyncio.to_thread(d.log.record_vote, session.question_id, query.from_user.id, vote)
        await query.answer("Thanks for the feedback!")
    elif action == "m":
        await query.answer()
        await _send_page(update, session, token, int(argument), d)
    else:
        await query.answer()
        await _send_article(update, session, d)


async def _send_page(update: Update, session: Session, token: str, start: int, d: Desk) -> None:
    results = session.answer.results[start : start + d.per_page]
    if not results:
        await _reply(update, "That's all I found.")
        return
    if session.answer.answered:
        text = render.answer_html(session.answer, results, first_number=start + 1)
    else:
        text = render.weak_html(results, first_number=start + 1)
    after = start + len(results)
    keyboard = None
    if after < len(session.answer.results):
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("More", callback_data=f"m:{token}:{after}")]]
        )
    await _reply(update, text, keyboard)


async def _send_article(update: Update, session: Session, d: Desk) -> None:
    top = session.answer.results[0]
    article = await asyncio.to_thread(d.engine.article, top.article_id)
    if article is None:
        await _reply(update, "That article is no longer in the archive.")
        return
    for part in render.article_messages(article):
        await _reply(update, part)


async def inline_query(update: Update, context: Context) -> None:
    """@bot question, in any chat: the top passages as results to share."""
    query = update.inline_query
    if query is None:
        return
    d = desk(context)
    results: list[InlineQueryResultArticle] = []
    try:
        question = d.engine.check_question(query.query)
    except QuestionError:
        question = ""
    if question and not d.limiter.wait_seconds(query.from_user.id):
        found = await asyncio.to_thread(d.engine.search, question, INLINE_RESULTS)
        if found.answered:
            results = [
                InlineQueryResultArticle(
                    id=str(number),
                    title=r.title[:100],
                    description=r.answer_sentence[:200],
                    input_message_content=InputTextMessageContent(
                        render.result_html(r, number), parse_mode=ParseMode.HTML
                    ),
                )
                for number, r in enumerate(found.results, start=1)
            ]
    await query.answer(results, cache_time=30, is_personal=False)


# --------------------------------------------------------------------------- admins


def admin_only(handler: Handler) -> Handler:
    """Refuse (and log) anyone whose user id is not in NEWSDESK_ADMIN_IDS."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or user.id not in desk(context).admin_ids:
            logger.warning(
                "refused %s from non-admin user %s", handler.__name__, user.id if user else None
            )
            await _reply(update, "Sorry, admins only.")
            return
        if message is not None and message.forward_origin is not None:
            # Someone else's words, passed on: not the admin asking for this now.
            logger.warning("refused forwarded %s from admin %s", handler.__name__, user.id)
            await _reply(update, "I don't run forwarded admin commands; send it yourself.")
            return
        if message is not None and message.chat.type != ChatType.PRIVATE:
            # /stats and build reports are not for everyone in a group to read.
            logger.warning("refused %s from admin %s in a group", handler.__name__, user.id)
            await _reply(update, "Admin commands work only in a private chat with me.")
            return
        await handler(update, context)

    return guarded


async def _in_background(context: Context, d: Desk, job: Coroutine[Any, Any, None]) -> None:
    """Run a long job (a build) after its update has been handled, holding the indexing lock.

    An update is confirmed to Telegram when its handler returns (bot.telegram.polling): a build of
    minutes must not hold back the confirmation of every update after it. Callers check that
    the lock is free first; acquiring a free asyncio.Lock does not suspend, so no second job
    can slip in between the check and this."""
    await d.indexing.acquire()

    async def locked() -> None:
        try:
            await job
        finally:
            d.indexing.release()

    context.application.create_task(locked())


@admin_only
async def reindex(update: Update, context: Context) -> None:
    """/reindex: rebuild from the data folder in the background, editing a status message."""
    d = desk(context)
    if d.indexing.locked():
        building = "A reindex is already running; I'll post its summary when it ends."
        await _reply(update, _busy(d, building))
        return
    await _in_background(context, d, _reindex(update, d))


def _busy(d: Desk, building: str) -> str:
    """What holds the indexing lock: a compaction, or an admin's build (`building`)."""
    if d.compacting:
        return "The index is being compacted after the last update; try again in a few minutes."
    return building


async def _compact_if_due(d: Desk, summary: BuildSummary | None) -> None:
    """After an update has been reported: fold a grown delta into a new base, still holding
    the indexing lock. Questions are answered from the update meanwhile."""
    if summary is None or not summary.compaction_due:
        return
    d.compacting = True
    try:
        done = await asyncio.to_thread(d.engine.compact, [d.data_dir])
        logger.info("compacted the index in %.1f s", done.seconds)
    except NewsdeskError as error:
        logger.warning("compaction failed; the update keeps answering: %s", error)
    finally:
        d.compacting = False


async def _reindex(update: Update, d: Desk) -> None:
    status = await StatusMessage.post(_message(update), "Reindexing…", d.progress_edit_seconds)
    try:
        summary = await asyncio.to_thread(d.engine.build, [d.data_dir], status.update)
    except NewsdeskError as error:
        await status.finish(
            f"Reindex failed: {error}. The previous index is still answering questions."
        )
    else:
        await status.finish(render.summary_text(summary))
        await _compact_if_due(d, summary)


@admin_only
async def upload(update: Update, context: Context) -> None:
    """An admin's document: validate, save into the data folder, index incrementally."""
    message = _message(update)
    document = message.document
    if document is None:
        return
    d = desk(context)
    name = document.file_name or "upload"
    if document.file_size and document.file_size > d.upload_max_bytes:
        await _reply(update, _too_big(name, document.file_size, d.upload_max_bytes))
        return
    if d.indexing.locked():
        building = "A reindex is running; send the file again when it has finished."
        await _reply(update, _busy(d, building))
        return
    await _in_background(context, d, _add_upload(message, document, name, d))


async def _add_upload(message: Message, document: Document, name: str, d: Desk) -> None:
    status = await StatusMessage.post(message, f"Checking {name}…", d.progress_edit_seconds)
    try:
        content = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError:  # retried already (bot.telegram.retry); the admin can send it again
        # The reason stays in the log: a download error may quote the file URL, token and all.
        logger.warning("could not download upload %r", name, exc_info=True)
        await status.finish(f"Could not download {name}; please send it again.")
        return
    if len(content) > d.upload_max_bytes:
        await status.finish(_too_big(name, len(content), d.upload_max_bytes))
        return
    try:
        articles, summary = await asyncio.to_thread(
            d.engine.add_file, d.data_dir, name, content, status.update
        )
    except NewsdeskError as error:
        await status.finish(f"Rejected {name}: {error}. Nothing was changed.")
        return
    titles = "\n".join(f"• {a.title}" for a in articles[:10])
    more = f"\n… and {len(articles) - 10} more" if len(articles) > 10 else ""
    saved = Path(articles[0].path).name if articles else name  # folders are never kept
    await status.finish(
        f"Added {saved}: {len(articles)} article(s).\n{titles}{more}\n\n"
        + render.summary_text(summary)
    )
    await _compact_if_due(d, summary)


def _too_big(name: str, size: int, limit: int) -> str:
    return f"Rejected {name}: it is {_size(size)} and the limit is {_size(limit)}."


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1_000_000 else f"{count / 1e3:.1f} kB"


async def poll_feeds(context: Context) -> None:
    """The job queue's feed poll: fetch, save, index; skipped while a reindex runs."""
    d = desk(context)
    urls = await d.feed_urls()
    if not urls or d.indexing.locked():
        return
    async with d.indexing:
        try:
            # The whole pass (network, extraction, encoding) runs in a worker thread.
            report, summary = await asyncio.to_thread(refresh, d.engine, d.poller, urls)
        except NewsdeskError as error:
            logger.warning("feed poll failed: %s", error)
            return
        logger.info("%s", render.poll_text(report, summary))
        await _compact_if_due(d, summary)


@admin_only
async def feeds(update: Update, context: Context) -> None:
    """/feeds: every followed feed with its last success and last error."""
    d = desk(context)
    states = await asyncio.to_thread(d.poller.status, await d.feed_urls())
    await _reply(update, render.feeds_html(states))


@admin_only
async def addfeed(update: Update, context: Context) -> None:
    """/addfeed URL: check that it is a feed, add it to feeds.txt, poll it now."""
    d = desk(context)
    url = " ".join(context.args or []).strip()
    if not url:
        await _reply(update, "Send /addfeed followed by the feed's address.")
        return
    try:
        document = await asyncio.to_thread(d.poller.check_feed, url)
        await asyncio.to_thread(add_feed, d.data_dir, url, d.feeds)
    except NewsdeskError as error:
        await _reply(update, f"Not added: {render.escape(str(error))}. Nothing was changed.")
        return
    title = render.escape(document.title or url)
    await _reply(
        update,
        f"Following <b>{title}</b> ({len(document.entries)} item(s) listed now); "
        "fetching them in the background.",
    )
    if context.job_queue is not None:
        context.job_queue.run_once(poll_feeds, 0)


@admin_only
async def removefeed(update: Update, context: Context) -> None:
    """/removefeed URL: stop following it; the articles already saved stay."""
    d = desk(context)
    url = " ".join(context.args or []).strip()
    try:
        await asyncio.to_thread(remove_feed, d.data_dir, url, d.feeds)
    except NewsdeskError as error:
        await _reply(update, f"Not removed: {render.escape(str(error))}.")
        return
    await _reply(
        update, f"No longer following {render.escape(url)}. Its saved articles stay indexed."
    )


@admin_only
async def stats(update: Update, context: Context) -> None:
    """/stats: questions answered and declined, feedback, latency, index size."""
    d = desk(context)
    usage = await asyncio.to_thread(d.log.usage)
    index = await _stats(d.engine)
    await _reply(update, render.usage_html(usage, index) if index else "No index yet.")


# --------------------------------------------------------------------------- errors


async def on_error(update: object, context: Context) -> None:
    """Log the failure with the update id and apologise; the bot keeps running."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("update %s failed", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(
                "Sorry — something went wrong on my side. Please try again in a moment."
            )
        except Exception:  # the apology itself failing must not raise from the error handler
            logger.warning("could not send the apology for update %s", update_id)


# --------------------------------------------------------------------------- helpers


def _message(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


async def _reply(
    update: Update, html_text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Any:
    return await _message(update).reply_html(
        html_text, reply_markup=keyboard, link_preview_options=NO_PREVIEW
    )
