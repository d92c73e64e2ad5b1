"""The rate limit as handlers meet it: one check before any reply that costs Telegram's shared
message budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.i18n import Messages
from bot.telegram.api import Update
from bot.telegram.desk import Context, reply
from bot.telegram.render import escape
from bot.telegram.texts import texts_for_user


async def admitted(
    update: Update, context: Context, texts: Callable[[], Awaitable[Messages]] | None = None
) -> bool:
    """True if the user may have a reply now; otherwise False, after telling them (once a
    minute, in the language `texts` gives or else their client's) how long to wait.

    The decision comes before anything is awaited: handlers of a burst start in the order its
    messages arrived, and an await first (working out the reply's language runs in a thread)
    would let a later message take an earlier one's place."""
    user = update.effective_user
    if user is None:
        return False
    limiter = context.bot_data.limiter
    wait = limiter.wait_seconds(user.id)
    if not wait:
        return True
    if limiter.should_warn(user.id):
        language = await texts() if texts else texts_for_user(update)
        await reply(update, escape(language.rate_limited.format(seconds=f"{wait:.0f}")))
    return False
