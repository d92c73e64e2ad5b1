"""Floods and oversized listings through the real bot: a hundred greetings, blank messages,
/help and /sources get a handful of replies; /sources fits one message whatever the archive
holds and shows feed addresses to admins only; a feed that trickles does not lock out
/reindex."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot.telegram.render import TELEGRAM_LIMIT, visible_length
from embeddings import IndexStats

from ..hostile_http import HostileSite, page, rss, trickle
from .conftest import ADMIN_ID, BotFactory
from .fake_telegram import FakeTelegram
from .test_bot import ask

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]


async def test_a_flood_of_small_talk_blanks_help_and_sources_gets_a_handful_of_replies(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = tg.user(31, "Alice")
    async with start_bot(rate_limit_per_minute=5):
        mark = tg.mark()
        for text in ["hi"] * 100 + [" \n "] * 20 + ["/help"] * 20 + ["/sources"] * 20:
            tg.send_text(alice, text)
        await tg.next_bot_message(alice["id"], after=mark, timeout=60)
        await asyncio.sleep(3)  # whatever else was coming has come
        replies = [m for m in tg.messages(alice["id"]) if m.seq > mark.seq]
        assert len(replies) == 6, [m.text[:40] for m in replies]  # five, and one warning
        assert sum(m.text.startswith("You're asking faster") for m in replies) == 1


async def test_sources_fits_one_message_and_shows_feed_addresses_to_admins_only(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    feeds = ",".join(f"http://127.0.0.1:9/feed-{i}-{'x' * 200}.xml" for i in range(400))
    alice, admin = tg.user(32, "Alice"), tg.user(ADMIN_ID, "Admin")
    async with start_bot(feeds=feeds, feed_interval=3600) as bot:
        real = await asyncio.to_thread(bot.engine.stats)
        huge = dataclasses.replace(
            real,
            by_source={f"Source {i} {'ß' * 150}": 400 - i for i in range(400)},
            newest_title="Breaking " + "📰" * 5000,
        )

        async def stats() -> IndexStats:
            return huge

        bot.app.bot_data.stats = stats  # type: ignore[method-assign]
        public = await ask(tg, alice, "/sources")
        assert visible_length(public.text) <= TELEGRAM_LIMIT
        assert "… and " in public.text
        assert "127.0.0.1" not in public.text
        assert "Following 400 news feed(s)" in public.text
        private = await ask(tg, admin, "/sources")
        assert "127.0.0.1:9/feed-0-" in private.text
        assert visible_length(private.text) <= TELEGRAM_LIMIT


async def test_a_trickling_feed_does_not_hold_the_indexing_lock(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    admin = tg.user(ADMIN_ID, "Admin")
    with HostileSite() as site:
        site.routes["/rss.xml"] = page(rss(site.base, 1), "application/rss+xml")
        site.routes["/p/0"] = trickle(10_000, 0.5)
        async with start_bot(
            feeds=f"{site.base}/rss.xml", feed_allow_private=True, feed_interval=1,
            feed_deadline=10, feed_retries=0,
        ) as bot:  # fmt: skip
            desk = bot.app.bot_data
            while "/p/0" not in site.requests():
                await asyncio.sleep(0.1)
            assert desk.polling.locked()
            status = await ask(tg, admin, "/reindex")
            assert status.text.startswith("Reindexing")
