"""Telegram misbehaving: server errors, flood control, timeouts and dropped connections on
the way in (getUpdates) and out (sendMessage). The bot retries what is safe to retry, loses
no update, answers each question once, and confirms an update only after handling it."""

from __future__ import annotations

import httpx
import pytest

from bot.telegram.api import BadRequest, NetworkError, TimedOut
from bot.telegram.retry import safe_to_retry

from ..helpers import WANG_YI_QUESTION, WANG_YI_UN
from .conftest import BotFactory
from .fake_telegram import FakeTelegram

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]


def answers(tg: FakeTelegram, chat_id: int) -> list[str]:
    """The bold answer sentence of every answer in the chat (apologies have none)."""
    return [m.formatted("bold")[0] for m in tg.messages(chat_id) if m.formatted("bold")]


def caused_by(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "endpoint", "safe"),
    [
        (caused_by(NetworkError("x"), httpx.ConnectError("refused")), "sendMessage", True),
        (caused_by(TimedOut(), httpx.PoolTimeout("pool")), "sendMessage", True),
        (NetworkError("Bad Gateway"), "sendMessage", True),  # a 5xx answer: nothing was done
        (caused_by(NetworkError("x"), httpx.RemoteProtocolError("gone")), "sendMessage", False),
        (caused_by(TimedOut(), httpx.ReadTimeout("slow")), "sendMessage", False),
        (caused_by(TimedOut(), httpx.ReadTimeout("slow")), "editMessageText", True),
        (caused_by(NetworkError("x"), httpx.RemoteProtocolError("gone")), "getFile", True),
        (BadRequest("message text is empty"), "sendMessage", False),
    ],
)
def test_only_calls_that_cannot_take_effect_twice_are_retried(
    error: Exception, endpoint: str, safe: bool
) -> None:
    assert safe_to_retry(error, endpoint) is safe


async def test_server_errors_on_send_are_retried_with_backoff_and_answered_once(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = tg.user(1, "Alice")
    async with start_bot():
        tg.fail_next("sendMessage", status=502, count=2)
        tg.send_text(alice, WANG_YI_QUESTION)
        await tg.wait_for(lambda: answers(tg, alice["id"]), timeout=60)
        sends = tg.calls_to("sendMessage")
        assert [c.status for c in sends] == [502, 502, 200]
        assert sends[2].time - sends[1].time > sends[1].time - sends[0].time  # backing off
        assert answers(tg, alice["id"]) == [WANG_YI_UN]


async def test_polling_survives_5xx_429_and_a_lost_batch_and_handles_the_update_once(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = tg.user(1, "Alice")
    async with start_bot():
        tg.fail_next("getUpdates", status=500, count=2)
        tg.fail_next("getUpdates", status=429, retry_after=1)
        # The batch carrying the question is sent, and the answer lost on the wire.
        tg.drop_next("getUpdates", after_processing=True)
        await tg.wait_for(lambda: any(c.status == 500 for c in tg.calls_to("getUpdates")))
        tg.send_text(alice, WANG_YI_QUESTION)
        await tg.wait_for(lambda: answers(tg, alice["id"]), timeout=60)
        statuses = [c.status for c in tg.calls_to("getUpdates")]
        assert statuses[statuses.index(500) :][:4] == [500, 500, 429, None]
        await tg.wait_for(lambda: not tg.pending_updates, timeout=30, what="confirmation")
        assert answers(tg, alice["id"]) == [WANG_YI_UN]
        assert len(tg.messages(alice["id"])) == 1
        assert len([c for c in tg.calls_to("sendMessage") if c.status == 200]) == 1


async def test_an_answer_whose_reply_timed_out_is_not_sent_twice(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    """Telegram took the message but answered after PTB's 5 s read timeout: the bot cannot
    know it arrived, so it does not send it again (it apologises instead)."""
    alice = tg.user(1, "Alice")
    async with start_bot():
        tg.delay_next("sendMessage", 6.5, after_processing=True)
        tg.send_text(alice, WANG_YI_QUESTION)
        await tg.wait_for(lambda: len(tg.messages(alice["id"])) >= 2, timeout=60)
        await tg.wait_for(lambda: not tg.pending_updates, timeout=30, what="confirmation")
        texts = [m.text for m in tg.messages(alice["id"])]
        assert answers(tg, alice["id"]) == [WANG_YI_UN]
        assert texts[1].startswith("Sorry — something went wrong on my side")


async def test_a_send_that_timed_out_before_telegram_took_it_leaves_one_apology(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = tg.user(1, "Alice")
    async with start_bot():
        tg.delay_next("sendMessage", 6.5)  # the bot gives up at 5 s; the fake then drops it
        tg.send_text(alice, WANG_YI_QUESTION)
        apology = await tg.next_bot_message(alice["id"], timeout=60)
        assert apology.text.startswith("Sorry — something went wrong on my side")
        await tg.wait_for(
            lambda: any(c.description == "client went away" for c in tg.calls), timeout=30
        )
        assert len(tg.messages(alice["id"])) == 1


async def test_an_update_is_confirmed_only_after_its_answer_was_sent(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = tg.user(1, "Alice")
    async with start_bot():
        tg.delay_next("sendMessage", 2.0)
        tg.send_text(alice, WANG_YI_QUESTION)
        update_id = tg.pending_updates[0]["update_id"]
        await tg.wait_for(lambda: "sendMessage" in tg.arrivals, timeout=60)
        polls = len(tg.calls_to("getUpdates"))
        # The bot keeps polling while the answer is on its way, without confirming it.
        await tg.wait_for(lambda: len(tg.calls_to("getUpdates")) > polls + 1, timeout=10)
        assert not tg.messages(alice["id"])
        assert [u["update_id"] for u in tg.pending_updates] == [update_id]
        assert all(c.params.get("offset") in (None, update_id, str(update_id))
                   for c in tg.calls_to("getUpdates")[polls:])  # fmt: skip
        await tg.wait_for(lambda: answers(tg, alice["id"]), timeout=30)
        await tg.wait_for(lambda: not tg.pending_updates, timeout=30, what="confirmation")
        assert answers(tg, alice["id"]) == [WANG_YI_UN]
