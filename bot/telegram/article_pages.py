"""A whole article as one message that pages: ‹ Previous / Next › edit it in place.

Sending a long article as a run of messages floods a chat (a briefing transcript is a dozen
messages or more, and a group gets about 20 a minute from a bot); one message that pages costs
one message however long the article. Each page repeats the title and citation, with its link,
and is cut between paragraphs (a paragraph longer than a page between words) so that it stays
within Telegram's 4096 UTF-16 code units. Pressing "Full article" again under the same answer
brings the open message back to its first page instead of sending another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.i18n import Messages
from bot.telegram.api import (
    BadRequest,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ParseMode,
    Update,
)
from bot.telegram.callback_data import ArticlePage, FullArticle
from bot.telegram.desk import NO_PREVIEW, Context, reply
from bot.telegram.render import TELEGRAM_LIMIT, citation_fields_html, clip, escape, visible_length
from bot.telegram.sessions import Session
from embeddings import Article

logger = logging.getLogger(__name__)

_FOOTER_UNITS = 16  # "\n\n" and "999 / 999"


def article_pages(article: Article, texts: Messages, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The article as pages of HTML, each within `limit` visible UTF-16 code units, each
    headed by its title and citation and, when there are several, ended by "page / pages"."""
    header = (
        f"<b>{escape(clip(article.title, 1000))}</b>\n— {citation_fields_html(article, texts.link)}"
    )
    room = limit - visible_length(header) - 2 - _FOOTER_UNITS
    bodies: list[str] = []
    for piece in _fit_paragraphs(article.paragraphs, room):
        joined = f"{bodies[-1]}\n\n{piece}" if bodies else piece
        if bodies and _units(joined) <= room:
            bodies[-1] = joined
        else:
            bodies.append(piece)
    if len(bodies) <= 1:
        return [f"{header}\n\n{escape(bodies[0])}" if bodies else header]
    total = len(bodies)
    return [
        f"{header}\n\n{escape(body)}\n\n<i>{number} / {total}</i>"
        for number, body in enumerate(bodies, start=1)
    ]


def _fit_paragraphs(paragraphs: Sequence[str], limit: int) -> list[str]:
    """Paragraphs split between words into pieces of at most `limit` UTF-16 code units."""
    out: list[str] = []
    for paragraph in paragraphs:
        while _units(paragraph) > limit:
            end = _prefix_within(paragraph, limit)
            cut = paragraph.rfind(" ", 0, end)
            cut = cut if cut > 0 else end
            out.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip()
        if paragraph:
            out.append(paragraph)
    return out


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, units: int) -> int:
    """The length of the longest prefix of `text` taking at most `units` UTF-16 units (≥ 1)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return max(index, 1)
    return len(text)


def page_keyboard(
    token: str, result: int, page: int, pages: int, texts: Messages
) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                texts.previous, callback_data=ArticlePage(token, result, page - 1).data
            )
        )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(
                texts.next, callback_data=ArticlePage(token, result, page + 1).data
            )
        )
    return InlineKeyboardMarkup([row]) if row else None


async def _pages(
    context: Context, session: Session, result: int, texts: Messages
) -> list[str] | None:
    """The pages of the article of the session's `result`th result; None when it is gone."""
    if result >= len(session.answer.results):
        return None
    article_id = session.answer.results[result].article_id
    article = await asyncio.to_thread(context.bot_data.engine.article, article_id)
    return None if article is None else article_pages(article, texts)


async def open_article(
    update: Update, context: Context, session: Session, button: FullArticle, texts: Messages
) -> None:
    """ "Full article": its first page as a new message, or the open one brought back to it."""
    query = update.callback_query
    assert query is not None
    opened = context.bot_data.open_articles
    first, message = opened.claim(button.token, button.result)
    if not first and message is None:  # another press is sending it right now
        await query.answer(texts.article_above)
        return
    try:
        pages = await _pages(context, session, button.result, texts)
        if pages is None:
            opened.release(button.token, button.result)
            await query.answer(texts.article_gone)
            return
        keyboard = page_keyboard(button.token, button.result, 0, len(pages), texts)
        if message is not None and await _back_to_first_page(context, message, pages, keyboard):
            await query.answer(texts.article_above)
            return
        await query.answer()
        sent = await reply(update, pages[0], keyboard)
    except BaseException:
        opened.release(button.token, button.result)
        raise
    opened.opened(button.token, button.result, sent.chat_id, sent.message_id)


async def _back_to_first_page(
    context: Context,
    message: tuple[int, int],
    pages: list[str],
    keyboard: InlineKeyboardMarkup | None,
) -> bool:
    """The open article message edited back to its first page; False when it is gone."""
    chat_id, message_id = message
    try:
        await context.bot.edit_message_text(
            pages[0],
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        if "not modified" in str(error).lower():  # it is at its first page already
            return True
        logger.info("article message %s could not be refreshed: %s", message_id, error)
        return False
    return True


async def turn_page(
    update: Update, context: Context, session: Session, button: ArticlePage, texts: Messages
) -> None:
    """ "‹ Previous" / "Next ›": the article message edited to show that page."""
    query = update.callback_query
    assert query is not None
    pages = await _pages(context, session, button.result, texts)
    if pages is None:
        await query.answer(texts.article_gone)
        return
    page = min(button.page, len(pages) - 1)  # the article may have shrunk since
    await query.answer()
    await query.edit_message_text(
        pages[page],
        parse_mode=ParseMode.HTML,
        reply_markup=page_keyboard(button.token, button.result, page, len(pages), texts),
        link_preview_options=NO_PREVIEW,
    )
