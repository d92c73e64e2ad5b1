"""Feeds in the running bot: the job queue polls NEWSDESK_FEEDS, a freshly fetched article
answers a question, and admins manage feeds with /feeds, /addfeed and /removefeed."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.telegram.app import App
from embeddings import Engine

from ..feedsite import Site
from .conftest import ADMIN_ID, BotFactory
from .fake_telegram import BotMessage, FakeTelegram

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

OVERTIME = "How many South Carolina workers no longer pay federal income tax on overtime?"


async def say(tg: FakeTelegram, user_id: int, text: str) -> BotMessage:
    user = tg.user(user_id, f"User{user_id}")
    mark = tg.mark()
    tg.send_text(user, text)
    return await tg.next_bot_message(user_id, after=mark, timeout=60)


async def indexed(engine: Engine, article_id: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while await asyncio.to_thread(engine.article, article_id) is None:
        assert time.monotonic() < deadline, f"{article_id} was never indexed"
        await asyncio.sleep(0.5)


def feed_job_scheduled(app: App) -> bool:
    assert app.job_queue is not None
    return bool(app.job_queue.get_jobs_by_name("feeds"))


async def test_the_job_queue_polls_feeds_and_the_new_article_answers(
    tg: FakeTelegram, start_bot: BotFactory, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.feeds")
    rss = f"{site.base}/rss.xml"
    async with start_bot(
        feeds=rss, feed_allow_private=True, feed_interval=1, feed_timeout=2
    ) as bot:
        assert feed_job_scheduled(bot.app)
        host = site.base.removeprefix("http://").replace(".", "-").replace(":", "-")
        await indexed(
            bot.engine,
            f"feeds/{host}/president-trump-and-republicans-deliver-for-south-carolina-families",
        )

        # Each poll is one log line with its outcome (logged as the poll's thread returns).
        def polls() -> list[str]:
            return [r.getMessage() for r in caplog.records if r.name == "bot.telegram.feeds"]

        for _ in range(100):
            if any("; Indexed " in line for line in polls()):
                break
            await asyncio.sleep(0.1)
        assert any("; Indexed " in line for line in polls())
        outcomes = ("feed poll: Polled 1 feed(s): ", "feed poll skipped: ")
        assert all(line.startswith(outcomes) for line in polls())
        assert all("\n" not in line for line in polls())
        reply = await say(tg, 1, OVERTIME)
        [bold, *_] = reply.formatted("bold")
        assert "One in four South Carolina workers no longer pay federal income taxes" in bold
        assert "Example Newsroom" in reply.text
        # Later polls find nothing new: the feed answers 304 and no page is fetched again.
        await tg.wait_for(lambda: site.requests("/rss.xml").count(304) >= 2, timeout=30)
        assert {status for status in site.requests("/rss.xml")} == {200, 304}
        sources = await say(tg, 1, "/sources")
        assert "The White House Briefing Room" in sources.text
        assert "Following 1 news feed(s)" in sources.text
        assert rss not in sources.text
        for_admin = await say(tg, ADMIN_ID, "/sources")
        assert "4 article(s); last success" in for_admin.text
        assert rss in for_admin.text


async def test_admins_list_add_and_remove_feeds(
    tg: FakeTelegram, start_bot: BotFactory, site: Site
) -> None:
    rss, atom = f"{site.base}/rss.xml", f"{site.base}/atom.xml"
    async with start_bot(
        feeds=rss, feed_allow_private=True, feed_interval=3600, feed_timeout=0.5
    ) as bot:
        assert (await say(tg, 7, f"/addfeed {atom}")).text == "Sorry, admins only."
        assert (await say(tg, 7, "/feeds")).text == "Sorry, admins only."
        broken = await say(tg, ADMIN_ID, f"/addfeed {site.base}/broken.xml")
        assert broken.text.startswith("Not added: ")
        assert "HTTP 500" in broken.text
        assert not (bot.data_dir / "feeds.txt").exists()
        added = await say(tg, ADMIN_ID, f"/addfeed {atom}")
        # Three entries, one without a link: two articles to follow.
        assert added.text.startswith("Following AzerNews (2 item(s) listed now)")
        assert (bot.data_dir / "feeds.txt").read_text() == f"{atom}\n"
        await indexed(
            bot.engine, f"feeds/{site.base[7:].replace('.', '-').replace(':', '-')}/wang-yi"
        )
        listed = await say(tg, ADMIN_ID, "/feeds")
        assert listed.text.startswith("2 feed(s):")
        assert "AzerNews — 1 article(s); last success" in listed.text
        assert "timed out" in listed.text  # the Atom feed's stalling page
        refused = await say(tg, ADMIN_ID, f"/removefeed {rss}")
        assert "is set in NEWSDESK_FEEDS" in refused.text
        removed = await say(tg, ADMIN_ID, f"/removefeed {atom}")
        assert removed.text.startswith("No longer following")
        assert (bot.data_dir / "feeds.txt").read_text() == ""
