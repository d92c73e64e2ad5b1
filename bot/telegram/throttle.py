"""The rate limit as handlers meet it: one check before any reply that costs Telegram's shared
message budget."""

from __future__ import annotations

from bot.telegram.api import Update
from bot.telegram.desk import Context, reply


async def admitted(update: Update, context: Context) -> bool:
    """True if the user may have a reply now; otherwise False, after telling them (once a
    minute) how long to wait."""
    user = update.effective_user
    if user is None:
        return False
    limiter = context.bot_data.limiter
    wait = limiter.wait_seconds(user.id)
    if not wait:
        return True
    if limiter.should_warn(user.id):
        await reply(update, f"You're asking faster than I can read — try again in {wait:.0f} s.")
    return False
