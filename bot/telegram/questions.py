"""Questions: /ask, private messages, mentions and replies in groups, inline mode, and /help.

Every engine call goes through `asyncio.to_thread`: encoding and FAISS search are CPU work and
must never stall the other chats this process is serving.
"""

from __future__ import annotations

import asyncio
import html
import re
import time

from bot.i18n import Messages
from bot.telegram import render
from bot.telegram.answer_page import answer_page_html
from bot.telegram.api import (
    ChatType,
    InlineQueryResultArticle,
    InputTextMessageContent,
    MessageEntity,
    ParseMode,
    Update,
)
from bot.telegram.buttons import answer_keyboard
from bot.telegram.desk import Context, reply
from bot.telegram.inline import description, hint_result
from bot.telegram.other_messages import small_talk_line
from bot.telegram.replies import respond, searching_line
from bot.telegram.texts import texts_for_question, texts_for_user
from bot.telegram.throttle import admitted
from embeddings import Answer, MultilingualPendingError, QuestionError
from embeddings.text.followup import resolve_followup

SESSION_RESULTS = 15  # results kept per question for "More"
INLINE_RESULTS = 5


async def start(update: Update, context: Context) -> None:
    """/start and /help: what the archive holds and how to ask."""
    if await admitted(update, context):
        await _help(update, context)


async def _help(update: Update, context: Context) -> None:
    stats = await context.bot_data.stats()
    await reply(update, render.help_html(stats, context.bot.username, texts_for_user(update)))


async def ask_command(update: Update, context: Context) -> None:
    """/ask QUESTION, in any chat."""
    await answer(update, context, " ".join(context.args or []))


async def text_message(update: Update, context: Context) -> None:
    """Private chat: every message is a question. Groups: only mentions and replies to us."""
    message = update.effective_message
    text = message and (message.text or message.caption)  # a photo's caption is a question
    if message is None or not text:
        return
    if message.chat.type == ChatType.PRIVATE:
        await answer(update, context, text)
        return
    username = f"@{context.bot.username}".lower()
    entities = (message.parse_entities if message.text else message.parse_caption_entities)(
        [MessageEntity.MENTION]
    )
    mentions = [mention for mention in entities.values() if mention.lower() == username]
    replied = message.reply_to_message
    if mentions or (replied and replied.from_user and replied.from_user.id == context.bot.id):
        question = text
        for mention in mentions:
            question = question.replace(mention, " ")
        await answer(update, context, question)


async def answer(update: Update, context: Context, question: str) -> None:
    """Search the archive for `question` and reply with one page of the answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    desk = context.bot_data

    async def language() -> Messages:
        return await texts_for_question(question) if question.strip() else texts_for_user(update)

    if not await admitted(update, context, language):  # small talk and blank messages count too
        return
    texts = await language()
    if not question.strip():
        await _help(update, context)
        return
    if is_small_talk(question):
        await respond(update, context, small_talk_line(question))
        return
    try:
        question = desk.engine.check_question(question)
    except QuestionError:  # too long, or nothing left once entities are decoded ("&nbsp;")
        length, limit = (
            len(" ".join(html.unescape(question).split())),
            desk.engine.max_question_chars,
        )
        if length <= limit:
            await _help(update, context)
        else:
            refusal = texts.too_long.format(length=f"{length:,}", limit=f"{limit:,}")
            await respond(update, context, render.escape(refusal))
        return
    previous = desk.chats.previous(message)
    understood = resolve_followup(question, previous) if previous else None
    question = understood or question
    # No "typing…" action: a search takes tens of milliseconds, and under a burst of questions
    # the extra request per answer costs every reader seconds of Telegram's flood budget
    # (measured: p50 8.3 s with it, 5.0 s without, for 200 questions at once).
    started = time.perf_counter()
    try:
        result = await asyncio.to_thread(desk.engine.search, question, SESSION_RESULTS)
    except MultilingualPendingError as error:
        await respond(update, context, render.escape(str(error)))
        return
    latency = (time.perf_counter() - started) * 1000.0
    question_id = await asyncio.to_thread(
        desk.log.record_question, user.id, message.chat.id, result, latency
    )
    # In the state database, beside the log: off the event loop like the log's own write.
    token = await asyncio.to_thread(desk.sessions.add, result, question_id, user.id)
    text = answer_page_html(result, result.results[: desk.per_page], texts=texts)
    if understood:
        text = f"{searching_line(understood)}\n\n{text}"
    keyboard = answer_keyboard(token, result, desk.per_page, texts)
    sent = await respond(update, context, text, keyboard)
    desk.chats.remember(message, question, sent)


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


async def inline_query(update: Update, context: Context) -> None:
    """@bot question, in any chat: the top passages as results to share."""
    query = update.inline_query
    if query is None:
        return
    desk = context.bot_data
    results: list[InlineQueryResultArticle] = []
    try:
        question = desk.engine.check_question(query.query)
    except QuestionError:
        question = ""
    if question and not desk.limiter.wait_seconds(query.from_user.id):
        try:
            found: Answer | None = await asyncio.to_thread(
                desk.engine.search, question, INLINE_RESULTS
            )
        except MultilingualPendingError:  # nothing to share until its vectors are there
            found = None
        if found is not None and found.answered:
            results = [
                InlineQueryResultArticle(
                    id=str(number),
                    title=r.title[:100],
                    description=description(r.answer_sentence),
                    input_message_content=InputTextMessageContent(
                        render.result_html(r, number), parse_mode=ParseMode.HTML
                    ),
                )
                for number, r in enumerate(found.results, start=1)
            ]
    await query.answer(results or [hint_result(question)], cache_time=30, is_personal=False)
