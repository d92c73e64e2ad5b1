"""The buttons under an answer (More, Full article, closest matches, 👍/👎) and what pressing
them does. Their data is written and read by bot.telegram.callback_data."""

from __future__ import annotations

import asyncio
import logging

from bot.telegram import render
from bot.telegram.api import InlineKeyboardButton, InlineKeyboardMarkup, Update
from bot.telegram.callback_data import FullArticle, More, Vote, parse
from bot.telegram.desk import Context, Desk, reply
from bot.telegram.sessions import Session
from embeddings import Answer

logger = logging.getLogger(__name__)


def answer_keyboard(token: str, result: Answer, per_page: int) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if result.answered:
        first_row = [InlineKeyboardButton("Full article", callback_data=FullArticle(token).data)]
        if len(result.results) > per_page:
            first_row.insert(
                0, InlineKeyboardButton("More", callback_data=More(token, per_page).data)
            )
        rows.append(first_row)
    elif result.results:
        rows.append(
            [InlineKeyboardButton("Show closest matches", callback_data=More(token, 0).data)]
        )
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=Vote(token, 1).data),
            InlineKeyboardButton("👎", callback_data=Vote(token, -1).data),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def press(update: Update, context: Context) -> None:
    """A button under an answer was pressed."""
    query = update.callback_query
    if query is None or not query.data:
        return
    button = parse(query.data)
    if button is None:
        logger.info("ignored unknown callback data from user %s", query.from_user.id)
        await query.answer("I don't know that button.")
        return
    desk = context.bot_data
    session = await asyncio.to_thread(desk.sessions.get, button.token)  # a database read
    if session is None:
        await query.answer("This answer has expired — please ask the question again.")
        return
    match button:
        case Vote(vote=vote):
            await asyncio.to_thread(
                desk.log.record_vote, session.question_id, query.from_user.id, vote
            )
            await query.answer("Thanks for the feedback!")
        case More(token=token, start=start):
            await query.answer()
            await _send_page(update, session, token, start, desk.per_page)
        case FullArticle():
            await query.answer()
            await _send_article(update, session, desk)


async def _send_page(
    update: Update, session: Session, token: str, start: int, per_page: int
) -> None:
    results = session.answer.results[start : start + per_page]
    if not results:
        await reply(update, "That's all I found.")
        return
    if session.answer.answered:
        text = render.answer_html(session.answer, results, first_number=start + 1)
    else:
        text = render.weak_html(results, first_number=start + 1)
    after = start + len(results)
    keyboard = None
    if after < len(session.answer.results):
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("More", callback_data=More(token, after).data)]]
        )
    await reply(update, text, keyboard)


async def _send_article(update: Update, session: Session, desk: Desk) -> None:
    top = session.answer.results[0]
    article = await asyncio.to_thread(desk.engine.article, top.article_id)
    if article is None:
        await reply(update, "That article is no longer in the archive.")
        return
    for part in render.article_messages(article):
        await reply(update, part)
