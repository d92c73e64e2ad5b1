"""The one error handler: whatever a handler raises is logged and apologised for."""

from __future__ import annotations

import logging

from bot.telegram.api import Update
from bot.telegram.desk import Context, thread_to
from bot.telegram.texts import texts_for_user

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the failure with the update id and apologise; the bot keeps running."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("update %s failed", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        try:
            message = update.effective_message
            await message.reply_text(
                texts_for_user(update).error, reply_parameters=thread_to(message)
            )
        except Exception:  # the apology itself failing must not raise from the error handler
            logger.warning("could not send the apology for update %s", update_id)
