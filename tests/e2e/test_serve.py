"""`newsdesk serve` as an operator runs it: a separate process, settings from the environment."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from ..helpers import WANG_YI_QUESTION, WANG_YI_UN, newsdesk_serve
from .fake_telegram import FakeTelegram

# `newsdesk serve` in a subprocess: end to end although no fixture starts the bot.
pytestmark = [pytest.mark.timeout(240), pytest.mark.e2e]


async def serve(
    tg: FakeTelegram, data_dir: Path, index_dir: Path, state_db: Path
) -> asyncio.subprocess.Process:
    return await newsdesk_serve(
        {
            "NEWSDESK_TELEGRAM_TOKEN": tg.token,
            "NEWSDESK_TELEGRAM_API_URL": tg.url,
            "NEWSDESK_DATA_DIR": str(data_dir),
            "NEWSDESK_INDEX_DIR": str(index_dir),
            "NEWSDESK_STATE_DB": str(state_db),
        }
    )


async def stopped(process: asyncio.subprocess.Process, signum: int) -> str:
    """Send `signum` and return the process's output once it has exited (bounded wait)."""
    process.send_signal(signum)
    reader = asyncio.ensure_future(process.communicate())
    done, _ = await asyncio.wait([reader], timeout=30)
    if not done:  # hung: make it show where, then fail with its output
        process.send_signal(signal.SIGABRT)
        output, _ = await asyncio.wait_for(reader, timeout=30)
        raise AssertionError(f"still running 30 s after signal {signum}:\n{output.decode()}")
    output, _ = reader.result()
    return output.decode()


async def test_serve_answers_over_http_and_stops_cleanly_on_sigterm(
    tg: FakeTelegram, shipped_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    process = await serve(tg, *shipped_copy, tmp_path / "bot.sqlite")
    try:
        alice = tg.user(1, "Alice")
        await tg.wait_for(lambda: tg.calls_to("getUpdates"), timeout=120, what="polling")
        tg.send_text(alice, WANG_YI_QUESTION)
        reply = await tg.next_bot_message(alice["id"], timeout=60)
        assert reply.formatted("bold")[0] == WANG_YI_UN
    finally:
        log = await stopped(process, signal.SIGTERM)
    assert process.returncode == 0, log
    assert "newsdesk bot stopped" in log
    # What is served, said once at start: backend, index, size, model, other languages.
    assert f"serving the faiss index {shipped_copy[1]} (generation " in log
    assert "281 articles" in log
    assert "all-MiniLM-L6-v2; multilingual vectors " in log
    assert tg.token not in log
    assert tg.token.split(":")[1] not in log


async def test_sigterm_finishes_the_answer_in_flight_confirms_it_and_exits_zero(
    tg: FakeTelegram, shipped_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    process = await serve(tg, *shipped_copy, tmp_path / "bot.sqlite")
    try:
        alice = tg.user(1, "Alice")
        await tg.wait_for(lambda: tg.calls_to("getUpdates"), timeout=120, what="polling")
        tg.delay_next("sendMessage", 2.0)  # the answer is on its way when the signal comes
        tg.send_text(alice, WANG_YI_QUESTION)
        await tg.wait_for(lambda: "sendMessage" in tg.arrivals, timeout=60)
        polls = len(tg.arrivals)
        started = asyncio.get_running_loop().time()
    finally:
        log = await stopped(process, signal.SIGTERM)
    took = asyncio.get_running_loop().time() - started
    assert process.returncode == 0, log
    assert [m.formatted("bold")[0] for m in tg.messages(alice["id"])] == [WANG_YI_UN]
    assert not tg.pending_updates  # confirmed on the way out: a restart will not redo it
    assert "getUpdates" in tg.arrivals[polls:]
    print(f"\nSIGTERM with an answer in flight: exited 0 after {took:.1f} s")


async def test_a_bot_killed_mid_answer_answers_after_restart_exactly_once(
    tg: FakeTelegram, shipped_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL while the answer is being sent: the update was never confirmed, so Telegram
    hands it to the restarted bot, which answers it; the reader gets one answer."""
    alice = tg.user(1, "Alice")
    first = await serve(tg, *shipped_copy, tmp_path / "bot.sqlite")
    try:
        await tg.wait_for(lambda: tg.calls_to("getUpdates"), timeout=120, what="polling")
        tg.delay_next("sendMessage", 3.0)  # the fake drops it: its sender is dead by then
        tg.send_text(alice, WANG_YI_QUESTION)
        await tg.wait_for(lambda: "sendMessage" in tg.arrivals, timeout=60)
    finally:
        await stopped(first, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL
    assert len(tg.pending_updates) == 1
    await tg.wait_for(
        lambda: any(c.description == "client went away" for c in tg.calls), timeout=30
    )

    second = await serve(tg, *shipped_copy, tmp_path / "bot.sqlite")
    try:
        reply = await tg.next_bot_message(alice["id"], timeout=120)
        assert reply.formatted("bold")[0] == WANG_YI_UN
        await tg.wait_for(lambda: not tg.pending_updates, timeout=30, what="confirmation")
        await asyncio.sleep(1.0)  # a duplicate would have arrived by now
    finally:
        log = await stopped(second, signal.SIGTERM)
    assert second.returncode == 0, log
    assert len(tg.messages(alice["id"])) == 1
