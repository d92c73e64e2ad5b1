"""What every handler shares: the services (`Desk`), the typed callback context, replies.

The desk is the application's `bot_data`, so handlers read it as `context.bot_data`, typed by
`CONTEXT_TYPES`. python-telegram-bot creates bot_data itself, with no arguments, when the
application is built; `bot.telegram.app` then calls `Desk.configure` before any update comes.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from bot.follow.alerts import Watch, start_watching
from bot.follow.store import SqlFollows, follow_store
from bot.settings import Settings, feed_poller
from bot.telegram.api import (
    CallbackContext,
    ContextTypes,
    ExtBot,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from bot.telegram.botlog import BotLog
from bot.telegram.followups import ChatMemory
from bot.telegram.open_articles import OpenArticles
from bot.telegram.pending import PendingUploads
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.sessions import Sessions
from embeddings import BuildSummary, Engine, IndexStats, NewsdeskError
from embeddings.feeds.poller import FeedPoller, feed_list

logger = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # the citation link is enough; no big card


class Desk:
    """The engine, the bot's own state and the settings the handlers read."""

    engine: Engine
    log: BotLog
    data_dir: Path
    admin_ids: frozenset[int]
    per_page: int
    upload_max_bytes: int
    progress_edit_seconds: float
    sessions: Sessions
    open_articles: OpenArticles
    chats: ChatMemory  # each chat's last question and which answer replies to which message
    limiter: RateLimiter
    poller: FeedPoller
    feeds: tuple[str, ...]  # from NEWSDESK_FEEDS; feeds.txt is read at each poll
    pending: PendingUploads  # uploads whose build has not ended
    follows: SqlFollows  # followed topics and their alerts (bot.telegram.follow)
    follow_limit: int

    def __init__(self) -> None:
        self.indexing = asyncio.Lock()  # held by a build, an upload, a feed poll's build or a
        # compaction; a feed poll's fetching holds only this one:
        self.polling = asyncio.Lock()
        self.compacting = False  # the lock is held by a compaction, not by an admin's build
        self.alerting = asyncio.Lock()  # one check for alerts at a time
        self.watch = Watch()

    def configure(self, settings: Settings, engine: Engine, log: BotLog) -> None:
        self.engine = engine
        self.log = log
        self.data_dir = settings.data_dir
        self.admin_ids = settings.admin_ids
        self.per_page = settings.results_per_page
        self.upload_max_bytes = settings.upload_max_bytes
        self.progress_edit_seconds = settings.progress_edit_seconds
        self.sessions = Sessions(settings.session_ttl_seconds, path=settings.state_db)
        self.open_articles = OpenArticles()
        self.chats = ChatMemory(settings.followup_seconds)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.poller = feed_poller(settings)
        self.feeds = settings.feeds
        self.pending = PendingUploads(settings.state_db)
        self.follows = follow_store(settings)
        start_watching(engine, self.follows)
        self.follow_limit = settings.follow_limit

    def close(self) -> None:
        self.sessions.close()
        self.pending.close()
        self.follows.close()

    async def feed_urls(self) -> list[str]:
        return await asyncio.to_thread(feed_list, self.data_dir, self.feeds)

    async def stats(self) -> IndexStats | None:
        return await asyncio.to_thread(self.engine.stats) if self.engine.has_index() else None

    def busy(self, building: str) -> str:
        """What holds the indexing lock: a compaction, or an admin's build (`building`)."""
        if self.compacting:
            return "The index is being compacted after the last update; try again in a few minutes."
        return building

    async def compact_if_due(self, summary: BuildSummary | None) -> None:
        """After an update has been reported: fold a grown delta into a new base, still holding
        the indexing lock. Questions are answered from the update meanwhile."""
        if summary is None or not summary.compaction_due:
            return
        self.compacting = True
        try:
            done = await asyncio.to_thread(self.engine.compact, [self.data_dir])
            logger.info("compacted the index in %.1f s", done.seconds)
        except NewsdeskError as error:
            logger.warning("compaction failed; the update keeps answering: %s", error)
        finally:
            self.compacting = False


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], Desk]
CONTEXT_TYPES = ContextTypes(bot_data=Desk)


def message_of(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


def thread_to(message: Message) -> ReplyParameters:
    """A reply to `message`, in private chats too (python-telegram-bot quotes only in groups),
    so that in a burst every answer and notice shows which question it is for; sent anyway
    when the question has been deleted meanwhile."""
    return ReplyParameters(message.message_id, allow_sending_without_reply=True)


async def reply(
    update: Update, html_text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Any:
    message = message_of(update)
    return await message.reply_html(
        html_text,
        reply_markup=keyboard,
        link_preview_options=NO_PREVIEW,
        reply_parameters=thread_to(message),
    )
