"""Followed topics in the running bot: /follow, a loopback feed bringing a matching article,
the alert sent once; /unfollow (its button) stopping alerts; a restart keeping follows."""

from __future__ import annotations

import pytest

from ..feedsite import Site
from .conftest import BotFactory
from .fake_telegram import FakeTelegram
from .test_feeds_bot import OVERTIME, say

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

SPACE = "the national space transportation policy"
SOLAR = "floating solar farms"


async def test_a_followed_topic_is_alerted_once_and_unfollowed_ones_never(
    tg: FakeTelegram, start_bot: BotFactory, site: Site
) -> None:
    reader = tg.user(1, "Reader")
    async with start_bot(
        feed_interval=1, feed_timeout=2, alert_interval=1, feed_allow_private=True
    ) as bot:
        for topic in (OVERTIME, SPACE, SOLAR):
            followed = await say(tg, 1, f"/follow {topic}")
            assert followed.text.startswith(f"Following {topic}.")
        listed = await say(tg, 1, "/following")
        assert f"1. {OVERTIME}\n2. {SPACE}\n3. {SOLAR}" in listed.text
        mark = tg.mark()
        tg.press_button(reader, listed, listed.button_data("Unfollow 2"))
        gone = await tg.next_bot_message(1, after=mark)
        assert gone.text == f"No longer following {SPACE}."
        # The feed appears only now, so every article it brings is new to the follows.
        mark = tg.mark()
        (bot.data_dir / "feeds.txt").write_text(f"{site.base}/rss.xml\n", encoding="utf-8")
        alert = await tg.next_bot_message(1, after=mark, timeout=120)
        assert alert.text.startswith(f"🔔 New on {OVERTIME}")
        [topic, bold, *_] = alert.formatted("bold")  # the topic, then the answer sentence
        assert topic == OVERTIME
        assert "One in four South Carolina workers no longer pay federal income taxes" in bold
        assert "President Trump and Republicans Deliver for South Carolina Families" in alert.text
        # Later polls bring nothing new: that one alert, and none for the other topics.
        await tg.wait_for(lambda: site.requests("/rss.xml").count(304) >= 3, timeout=60)
        assert [m.text for m in tg.messages(1) if m.text.startswith("🔔")] == [alert.text]
    async with start_bot(alert_interval=1):  # a restart: the follows are kept
        listed = await say(tg, 1, "/following")
        assert f"1. {OVERTIME}\n2. {SOLAR}\n" in listed.text
        removed = await say(tg, 1, "/unfollow 2")
        assert removed.text == f"No longer following {SOLAR}."
        assert (await say(tg, 1, "/unfollow 5")).text.startswith("Send /unfollow and a number")


async def test_a_user_cannot_follow_more_than_the_limit(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    async with start_bot(follow_limit=1):
        assert (await say(tg, 1, f"/follow {SOLAR}")).text.startswith("Following")
        refused = await say(tg, 1, f"/follow {SPACE}")
        assert refused.text == (
            "Not followed: you already follow 1 topics, the most allowed. "
            "Send /following to unfollow one."
        )
        assert (await say(tg, 1, "/follow")).text.startswith("Send /follow followed by a topic")
