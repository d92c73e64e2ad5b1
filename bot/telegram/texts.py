"""Which language's fixed texts (bot.i18n) a reply uses: the question's, or for what has no
question (/help, an expired button) the one the user's Telegram client reports."""

from __future__ import annotations

import asyncio

from bot.i18n import Messages, messages_for
from bot.telegram.api import Update
from embeddings.text.language import language_of


async def texts_for_question(question: str) -> Messages:
    # The identifier is CPU work (and loads its model on first use): off the event loop.
    return messages_for(await asyncio.to_thread(language_of, question))


def texts_for_user(update: Update) -> Messages:
    user = update.effective_user
    return messages_for(user.language_code if user else None)
