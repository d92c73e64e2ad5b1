"""Followed topics: /follow, /following (with an Unfollow button per topic), /unfollow, and
the job that sends alerts when new articles answer a followed topic (bot.follow.alerts)."""

from __future__ import annotations

import asyncio
import logging
import re

from bot.follow.alerts import Alert, pending_alerts
from bot.follow.store import Follow, FollowLimitError
from bot.telegram import render
from bot.telegram.api import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ParseMode,
    TelegramError,
    Update,
)
from bot.telegram.desk import NO_PREVIEW, Context, Desk, reply
from embeddings import NewsdeskError, QuestionError

logger = logging.getLogger(__name__)

UNFOLLOW = re.compile(r"u:(?P<id>[0-9]{1,18})")  # an Unfollow button's callback data
UNFOLLOW_PATTERN = f"^{UNFOLLOW.pattern}$"


async def follow(update: Update, context: Context) -> None:
    """/follow TOPIC: alert this chat whenever a new article answers TOPIC."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    desk = context.bot_data
    try:
        topic = desk.engine.check_question(" ".join(context.args or []))
    except QuestionError as error:
        if not context.args:
            await reply(update, "Send /follow followed by a topic or a question, e.g. "
                        "<code>/follow floating solar farms</code>.")  # fmt: skip
        else:
            await reply(update, f"Not followed: {render.escape(str(error))}.")
        return
    try:
        await asyncio.to_thread(
            desk.follows.follow, user.id, message.chat.id, topic, desk.follow_limit
        )
    except FollowLimitError as error:
        await reply(update, f"Not followed: {render.escape(str(error))}. "
                    "Send /following to unfollow one.")  # fmt: skip
        return
    await reply(
        update,
        f"Following <b>{render.escape(topic)}</b>. I'll message you when a new article "
        "answers it. /following lists your topics.",
    )


async def following(update: Update, context: Context) -> None:
    """/following: the topics this user follows, numbered, each with an Unfollow button."""
    user = update.effective_user
    if user is None:
        return
    follows = await asyncio.to_thread(context.bot_data.follows.following, user.id)
    if not follows:
        await reply(update, "You follow no topics. Send /follow and a topic to start.")
        return
    lines = [f"{n}. {render.escape(f.topic)}" for n, f in enumerate(follows, start=1)]
    buttons = [
        [InlineKeyboardButton(f"Unfollow {n}", callback_data=f"u:{f.id}")]
        for n, f in enumerate(follows, start=1)
    ]
    await reply(
        update,
        "<b>Topics you follow</b>\n" + "\n".join(lines) + "\n\nOr send /unfollow and a number.",
        InlineKeyboardMarkup(buttons),
    )


async def unfollow(update: Update, context: Context) -> None:
    """/unfollow N: stop following the Nth topic of /following."""
    user = update.effective_user
    if user is None:
        return
    desk = context.bot_data
    follows = await asyncio.to_thread(desk.follows.following, user.id)
    number = " ".join(context.args or []).strip()
    if not number.isdigit() or not 1 <= int(number) <= len(follows):
        await reply(update, f"Send /unfollow and a number from 1 to {len(follows)} (see "
                    "/following)." if follows else "You follow no topics.")  # fmt: skip
        return
    gone = await asyncio.to_thread(desk.follows.unfollow, user.id, follows[int(number) - 1].id)
    await reply(update, _unfollowed(gone))


async def unfollow_button(update: Update, context: Context) -> None:
    """An Unfollow button under /following."""
    query = update.callback_query
    if query is None or not query.data or not (found := UNFOLLOW.fullmatch(query.data)):
        return
    gone = await asyncio.to_thread(
        context.bot_data.follows.unfollow, query.from_user.id, int(found["id"])
    )
    await query.answer()
    await reply(update, _unfollowed(gone))


def _unfollowed(gone: Follow | None) -> str:
    if gone is None:
        return "You no longer follow that topic."
    return f"No longer following <b>{render.escape(gone.topic)}</b>."


def alert_html(alert: Alert) -> str:
    """The alert as the follower reads it: the topic, the answer sentence in its passage,
    and the citation, as in an answer."""
    header = f"🔔 New on <b>{render.escape(alert.follow.topic)}</b>\n\n"
    room = render.TELEGRAM_LIMIT - render.visible_length(header)
    return header + render.result_html(alert.match.result, 1, room).removeprefix("1. ")


async def check_alerts(context: Context) -> None:
    """The job queue's check (and the end of a feed poll): when another index generation is
    current, match its new articles against the follows and send what matched."""
    desk = context.bot_data
    if desk.alerting.locked() or not desk.watch.due(desk.engine):
        return
    await send_alerts(context, desk)


async def send_alerts(context: Context, desk: Desk) -> None:
    async with desk.alerting:
        try:
            alerts = await asyncio.to_thread(pending_alerts, desk.engine, desk.follows)
        except NewsdeskError as error:
            logger.warning("matching new articles against follows failed: %s", error)
            return
        for alert in alerts:
            try:
                await context.bot.send_message(
                    alert.follow.chat_id, alert_html(alert), parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                )  # fmt: skip
            except TelegramError as error:  # blocked the bot, chat gone: the claim stays
                logger.info("alert to chat %s not sent: %s", alert.follow.chat_id, error)
        if alerts:
            logger.info("sent %s alert(s) for new articles", len(alerts))
