"""The rate limit as handlers meet it: one check before any reply that costs Telegram's shared
message budget."""

from __future__ import annotations

from bot.i18n import Messages
from bot.telegram.api import Update
from bot.telegram.desk import Context, reply
from bot.telegram.render import escape
from bot.telegram.texts import texts_for_user


async def admitted(update: Update, context: Context, texts: Messages | None = None) -> bool:
    """True if the user may have a reply now; otherwise False, after telling them (once a
    minute, in `texts`' language or else their client's) how long to wait."""
    user = update.effective_user
    if user is None:
        return False
    limiter = context.bot_data.limiter
    wait = limiter.wait_seconds(user.id)
    if not wait:
        return True
    if limiter.should_warn(user.id):
        notice = (texts or texts_for_user(update)).rate_limited.format(seconds=f"{wait:.0f}")
        await reply(update, escape(notice))
    return False
