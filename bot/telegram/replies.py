"""Sending an answer or a notice for a question message: a threaded reply, or, when the
question was edited after we answered it, an edit of that answer in place."""

from __future__ import annotations

import logging

from bot.telegram import render
from bot.telegram.api import BadRequest, InlineKeyboardMarkup, ParseMode, Update
from bot.telegram.desk import NO_PREVIEW, Context, message_of, reply

logger = logging.getLogger(__name__)


async def respond(
    update: Update, context: Context, html_text: str, keyboard: InlineKeyboardMarkup | None = None
) -> int:
    """Reply to the update's message, or edit our answer to it when the message is an edited
    question; the id of the message that now holds the answer."""
    message = message_of(update)
    answer_id = context.bot_data.chats.answer_to(message) if update.edited_message else None
    if answer_id is not None:
        try:
            await context.bot.edit_message_text(
                html_text,
                chat_id=message.chat.id,
                message_id=answer_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                link_preview_options=NO_PREVIEW,
            )
            return answer_id
        except BadRequest as error:  # the answer was deleted meanwhile: answer afresh
            logger.info("could not edit answer %s (%s); replying instead", answer_id, error)
    sent = await reply(update, html_text, keyboard)
    return int(sent.message_id)


def searching_line(understood: str) -> str:
    """What a follow-up was read as, above its answer."""
    return f"<i>Searching: {render.escape(understood)}</i>"
