"""Feeds and sources: /sources for everyone, /feeds, /addfeed and /removefeed for admins, and
the job queue's feed poll."""

from __future__ import annotations

import asyncio
import logging

from bot.telegram import follow, render
from bot.telegram.admin import admin_only
from bot.telegram.api import ChatType, Update
from bot.telegram.desk import Context, reply
from bot.telegram.throttle import admitted
from bot.text import poll_text
from embeddings import NewsdeskError
from embeddings.feeds.poller import add_feed, remove_feed

logger = logging.getLogger(__name__)


async def sources(update: Update, context: Context) -> None:
    """/sources: what is indexed, by source, the newest article, and the feeds followed (each
    one's address and status for admins, how many for everyone else)."""
    if not await admitted(update, context):
        return
    desk = context.bot_data
    stats = await desk.stats()
    urls = await desk.feed_urls()
    # At most half the message for the sources when feeds follow them.
    room = render.TELEGRAM_LIMIT // 2 if urls else render.TELEGRAM_LIMIT
    text = render.sources_html(stats, room) if stats else "The archive is empty."
    user, chat = update.effective_user, update.effective_chat
    # Feed addresses and errors, like every admin view, only in an admin's private chat.
    private = chat is not None and chat.type == ChatType.PRIVATE
    if urls and private and user is not None and user.id in desk.admin_ids:
        states = await asyncio.to_thread(desk.poller.status, urls)
        room = render.TELEGRAM_LIMIT - render.visible_length(text) - 2
        text += "\n\n" + render.feeds_html(states, room)
    elif urls:
        text += "\n\n" + render.followed_html(len(urls))
    await reply(update, text)


async def poll_feeds(context: Context) -> None:
    """The job queue's feed poll: fetch and save, then index what is new.

    The network part holds only the polling lock: however slow a site is (each request ends
    at its deadline), an admin's /reindex or upload is not kept waiting for it. The indexing
    lock is taken for the build alone, after any reindex in progress has finished."""
    desk = context.bot_data
    urls = await desk.feed_urls()
    if not urls or desk.polling.locked():
        return
    async with desk.polling:
        try:
            report = await asyncio.to_thread(desk.poller.poll, urls)
        except NewsdeskError as error:
            logger.warning("feed poll failed: %s", error)
            return
        if not report.saved:
            logger.info("feed poll: %s", "; ".join(poll_text(report, None).splitlines()))
            return
        async with desk.indexing:
            try:
                summary = await asyncio.to_thread(desk.engine.build, [desk.data_dir])
            except NewsdeskError as error:
                logger.warning("feed poll: indexing the polled articles failed: %s", error)
                return
            logger.info("feed poll: %s", "; ".join(poll_text(report, summary).splitlines()))
            await follow.send_alerts(context, desk)  # followed topics hear of new articles at once
            await desk.compact_if_due(summary)


@admin_only
async def feeds(update: Update, context: Context) -> None:
    """/feeds: every followed feed with its last success and last error."""
    desk = context.bot_data
    states = await asyncio.to_thread(desk.poller.status, await desk.feed_urls())
    await reply(update, render.feeds_html(states))


@admin_only
async def addfeed(update: Update, context: Context) -> None:
    """/addfeed URL: check that it is a feed, add it to feeds.txt, poll it now."""
    desk = context.bot_data
    url = " ".join(context.args or []).strip()
    if not url:
        await reply(update, "Send /addfeed followed by the feed's address.")
        return
    try:
        document = await asyncio.to_thread(desk.poller.check_feed, url)
        await asyncio.to_thread(add_feed, desk.data_dir, url, desk.feeds)
    except NewsdeskError as error:
        await reply(update, f"Not added: {render.escape(str(error))}. Nothing was changed.")
        return
    title = render.escape(document.title or url)
    await reply(
        update,
        f"Following <b>{title}</b> ({len(document.entries)} item(s) listed now); "
        "fetching them in the background.",
    )
    if context.job_queue is not None:
        context.job_queue.run_once(poll_feeds, 0)


@admin_only
async def removefeed(update: Update, context: Context) -> None:
    """/removefeed URL: stop following it; the articles already saved stay."""
    desk = context.bot_data
    url = " ".join(context.args or []).strip()
    try:
        await asyncio.to_thread(remove_feed, desk.data_dir, url, desk.feeds)
    except NewsdeskError as error:
        await reply(update, f"Not removed: {render.escape(str(error))}.")
        return
    await reply(
        update, f"No longer following {render.escape(url)}. Its saved articles stay indexed."
    )
