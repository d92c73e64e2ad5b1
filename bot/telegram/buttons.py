"""The buttons under an answer (an article's full text, More, Timeline, 👍/👎) and what
pressing them does. Their data is written and read by bot.telegram.callback_data."""

from __future__ import annotations

import asyncio
import logging

from bot.answer_layout import group_by_article
from bot.i18n import Messages
from bot.telegram.answer_page import answer_page_html, article_number, shows_passages
from bot.telegram.api import InlineKeyboardButton, InlineKeyboardMarkup, Update
from bot.telegram.article_pages import open_article, turn_page
from bot.telegram.callback_data import ArticlePage, FullArticle, More, TimelineOf, Vote, parse
from bot.telegram.desk import Context, reply
from bot.telegram.render import escape, timeline_html
from bot.telegram.sessions import Session
from bot.telegram.texts import texts_for_question, texts_for_user
from embeddings import Answer

logger = logging.getLogger(__name__)


def answer_keyboard(
    token: str, result: Answer, per_page: int, texts: Messages
) -> InlineKeyboardMarkup | None:
    """Under the first page: its articles, More, Timeline (when the page answers from articles
    of several dates) and 👍/👎 — none under "not found"."""
    if not shows_passages(result):
        return None
    rows = page_keyboard(token, result, 0, per_page, texts).inline_keyboard
    if result.answered and len({r.date for r in result.results[:per_page] if r.date}) > 1:
        timeline = InlineKeyboardButton(texts.timeline, callback_data=TimelineOf(token).data)
        rows = (*rows, (timeline,))
    votes = [
        InlineKeyboardButton("👍", callback_data=Vote(token, 1).data),
        InlineKeyboardButton("👎", callback_data=Vote(token, -1).data),
    ]
    return InlineKeyboardMarkup([*rows, votes])


def page_keyboard(
    token: str, result: Answer, start: int, per_page: int, texts: Messages
) -> InlineKeyboardMarkup:
    """A button per article of the page from `start` (numbered as on the page; one article
    alone is "Full article"), then More when there are results after the page."""
    groups = group_by_article(result.results[start : start + per_page], start)
    first = article_number(result.results, start)
    if len(groups) == 1 and start == 0:
        labels = [f"📄 {texts.full_article}"]
    else:
        labels = [f"📄 {number}" for number in range(first, first + len(groups))]
    rows = [
        [
            InlineKeyboardButton(label, callback_data=FullArticle(token, group.first).data)
            for label, group in zip(labels, groups, strict=True)
        ]
    ]
    after = start + per_page
    if after < len(result.results):
        rows.append([InlineKeyboardButton(texts.more, callback_data=More(token, after).data)])
    return InlineKeyboardMarkup(rows)


async def press(update: Update, context: Context) -> None:
    """A button under an answer or an article was pressed."""
    query = update.callback_query
    if query is None or not query.data:
        return
    button = parse(query.data)
    if button is None:
        logger.info("ignored unknown callback data from user %s", query.from_user.id)
        await query.answer(texts_for_user(update).unknown_button)
        return
    desk = context.bot_data
    session = await asyncio.to_thread(desk.sessions.get, button.token)  # a database read
    if session is None:
        await query.answer(texts_for_user(update).expired)
        return
    texts = await texts_for_question(session.answer.question)
    match button:
        case Vote(vote=vote):
            await asyncio.to_thread(
                desk.log.record_vote, session.question_id, query.from_user.id, vote
            )
            await query.answer(texts.thanks)
        case More(token=token, start=start):
            await query.answer()
            await _send_page(update, session, token, start, desk.per_page, texts)
        case FullArticle():
            await open_article(update, context, session, button, texts)
        case ArticlePage():
            await turn_page(update, context, session, button, texts)
        case TimelineOf():
            await query.answer()
            found = await asyncio.to_thread(desk.engine.timeline, session.answer.question)
            await reply(update, timeline_html(found))


async def _send_page(
    update: Update, session: Session, token: str, start: int, per_page: int, texts: Messages
) -> None:
    answer = session.answer
    results = answer.results[start : start + per_page]
    if not results or not shows_passages(answer):
        await reply(update, escape(texts.all_shown))
        return
    text = answer_page_html(answer, results, start, texts, lead=False)
    await reply(update, text, page_keyboard(token, answer, start, per_page, texts))
