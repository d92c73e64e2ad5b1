"""Feeds and sources: /sources for everyone, /feeds, /addfeed and /removefeed for admins, and
the job queue's feed poll."""

from __future__ import annotations

import asyncio
import logging

from bot.telegram import follow, render
from bot.telegram.admin import admin_only
from bot.telegram.api import Update
from bot.telegram.desk import Context, reply
from bot.text import poll_text
from embeddings import NewsdeskError
from embeddings.feeds.poller import add_feed, refresh, remove_feed

logger = logging.getLogger(__name__)


async def sources(update: Update, context: Context) -> None:
    """/sources: what is indexed, by source, the newest article, and each feed's status."""
    desk = context.bot_data
    stats = await desk.stats()
    text = render.sources_html(stats) if stats else "The archive is empty."
    urls = await desk.feed_urls()
    if urls:
        states = await asyncio.to_thread(desk.poller.status, urls)
        text += "\n\n" + render.feeds_html(states)
    await reply(update, text)


async def poll_feeds(context: Context) -> None:
    """The job queue's feed poll: fetch, save, index; skipped while a reindex runs."""
    desk = context.bot_data
    urls = await desk.feed_urls()
    if not urls or desk.indexing.locked():
        return
    async with desk.indexing:
        try:
            # The whole pass (network, extraction, encoding) runs in a worker thread.
            report, summary = await asyncio.to_thread(refresh, desk.engine, desk.poller, urls)
        except NewsdeskError as error:
            logger.warning("feed poll failed: %s", error)
            return
        logger.info("%s", poll_text(report, summary))
        if summary is not None:  # followed topics hear of new articles within this poll
            await follow.send_alerts(context, desk)
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
