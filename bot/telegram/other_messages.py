"""Messages that are not questions: greetings and thanks, unknown commands, stickers, voice
notes, videos and files. Each gets one short line saying what the bot can do, never the
whole help text (that is /help)."""

from __future__ import annotations

import re

from bot.telegram.api import Update
from bot.telegram.desk import Context, reply

WHAT_I_DO = (
    "I answer questions about the news archive in text — type one, or send a photo with the "
    "question as its caption. /help says more."
)
UNKNOWN_COMMAND = "I don't know that command. Type a question, or see /help."
ADMINS_ONLY_FILES = (
    "Only admins add articles to the archive. You can ask me about what it holds — type a question."
)
GREETING = "Hello! Ask me anything about the news archive, e.g. What did Wang Yi say about the UN?"
WELCOME = "You're welcome — ask another question any time."

_THANKS = re.compile(r"\b(?:thanks|thank|thx|cheers|ty)\b", re.IGNORECASE)


def small_talk_line(text: str) -> str:
    """The one line for a greeting or a thank-you."""
    return WELCOME if _THANKS.search(text) else GREETING


async def unsupported(update: Update, context: Context) -> None:
    """A sticker, voice note, video or a file the bot does not read."""
    await reply(update, WHAT_I_DO)


async def unknown_command(update: Update, context: Context) -> None:
    await reply(update, UNKNOWN_COMMAND)


async def file_from_reader(update: Update, context: Context) -> None:
    """A document from someone who is not an admin: uploads add articles, which only admins do."""
    await reply(update, ADMINS_ONLY_FILES)
