"""`newsdesk serve` as an operator runs it: a separate process, settings from the environment."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from ..helpers import WANG_YI_QUESTION, WANG_YI_UN
from .fake_telegram import FakeTelegram

pytestmark = pytest.mark.timeout(180)


async def test_serve_answers_over_http_and_stops_cleanly_on_sigterm(
    tg: FakeTelegram, shipped_copy: tuple[Path, Path], tmp_path: Path
) -> None:
    data_dir, index_dir = shipped_copy
    env = {
        **os.environ,
        "NEWSDESK_TELEGRAM_TOKEN": tg.token,
        "NEWSDESK_TELEGRAM_API_URL": tg.url,
        "NEWSDESK_DATA_DIR": str(data_dir),
        "NEWSDESK_INDEX_DIR": str(index_dir),
        "NEWSDESK_STATE_DB": str(tmp_path / "bot.sqlite"),
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "newsdesk"),
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        alice = tg.user(1, "Alice")
        await tg.wait_for(lambda: tg.calls_to("getUpdates"), timeout=120, what="polling")
        tg.send_text(alice, WANG_YI_QUESTION)
        reply = await tg.next_bot_message(alice["id"], timeout=60)
        assert reply.formatted("bold")[0] == WANG_YI_UN
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = output.decode()
    assert process.returncode == 0, log
    assert "newsdesk bot stopped" in log
    assert tg.token not in log
    assert tg.token.split(":")[1] not in log
