"""`newsdesk serve` stopped during an upload's build: SIGTERM ends the build at its next batch
and the process within seconds; a kill leaves the file, which the next start rolls back."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest

from ..helpers import newsdesk_serve
from .fake_telegram import BotMessage, FakeTelegram
from .test_serve import stopped

pytestmark = [pytest.mark.timeout(300), pytest.mark.e2e]

ADMIN = 42
UPLOAD = "local.jsonl"


def many_articles(count: int) -> bytes:
    """Made-up local news: enough that encoding the upload takes tens of seconds."""
    lines = [
        json.dumps(
            {
                "id": f"local-{i}",
                "title": f"Council approves footbridge project {i}",
                "paragraphs": [
                    f"The council approved project {i}, {i + 3} footbridges across the canal.",
                    f"Residents said crossing {i} would shorten the walk by {i + 5} minutes.",
                    f"Work on project {i} begins once the survey of the ground is finished.",
                ],
            }
        )
        for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


async def serve(
    tg: FakeTelegram, archive: tuple[Path, Path], tmp: Path
) -> asyncio.subprocess.Process:
    data, index = archive
    return await newsdesk_serve(
        {
            "NEWSDESK_TELEGRAM_TOKEN": tg.token,
            "NEWSDESK_TELEGRAM_API_URL": tg.url,
            "NEWSDESK_DATA_DIR": str(data),
            "NEWSDESK_INDEX_DIR": str(index),
            "NEWSDESK_STATE_DB": str(tmp / "bot.sqlite"),
            "NEWSDESK_ADMIN_IDS": str(ADMIN),
            "NEWSDESK_MULTILINGUAL": "false",
            "NEWSDESK_PROGRESS_EDIT_SECONDS": "0.5",
        }
    )


async def upload_until_encoding(tg: FakeTelegram) -> BotMessage:
    """Send the upload and return its status message once its build is encoding."""
    admin = tg.user(ADMIN, "Admin")
    await tg.wait_for(lambda: tg.calls_to("getUpdates"), timeout=120, what="polling")
    mark = tg.mark()
    tg.send_document(admin, UPLOAD, many_articles(600))
    status = await tg.next_bot_message(admin["id"], after=mark, timeout=60)
    return await tg.wait_for(
        lambda: status if "encoding" in status.text else None, timeout=60, what="encoding"
    )


async def test_sigterm_during_an_upload_build_stops_serve_within_seconds(
    tg: FakeTelegram, small_archive: tuple[Path, Path], tmp_path: Path
) -> None:
    process = await serve(tg, small_archive, tmp_path)
    try:
        status = await upload_until_encoding(tg)
    finally:
        signalled = time.perf_counter()
        log = await stopped(process, signal.SIGTERM)
    took = time.perf_counter() - signalled
    print(f"\nSIGTERM during an upload's build: serve exited after {took:.1f} s")
    assert process.returncode == 0, log
    assert took < 10.0, log
    assert status.text.startswith(f"Stopped before {UPLOAD} was indexed"), status.text
    assert not (small_archive[0] / UPLOAD).exists()  # put back as it was


async def test_a_killed_upload_is_rolled_back_and_its_status_resolved_at_the_next_start(
    tg: FakeTelegram, small_archive: tuple[Path, Path], tmp_path: Path
) -> None:
    first = await serve(tg, small_archive, tmp_path)
    try:
        status = await upload_until_encoding(tg)
    finally:
        await stopped(first, signal.SIGKILL)
    assert (small_archive[0] / UPLOAD).exists()  # the kill left it behind, unindexed
    second = await serve(tg, small_archive, tmp_path)
    try:
        resolved = await tg.wait_for(
            lambda: status if "newsdesk was restarted" in status.text else None,
            timeout=120,
            what="the status resolved",
        )
    finally:
        log = await stopped(second, signal.SIGTERM)
    assert second.returncode == 0, log
    assert resolved.text.startswith(f"Stopped before {UPLOAD} was indexed"), resolved.text
    assert not (small_archive[0] / UPLOAD).exists()
    assert f"rolled back {small_archive[0] / UPLOAD}" in log
