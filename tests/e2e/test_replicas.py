"""Two `newsdesk serve` processes (one bot per desk) on one PostgreSQL index: a /reindex on
one is answered from by the other, without a restart."""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import pytest

from embeddings import SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.postgres.store import PostgresStore

from ..helpers import DATA, WANG_YI_QUESTION, WANG_YI_UN, newsdesk_serve, write
from .fake_telegram import FakeTelegram
from .test_serve import stopped

# `newsdesk serve` in subprocesses: end to end although no fixture starts the bot.
pytestmark = [pytest.mark.timeout(300), pytest.mark.e2e]

ADMIN = 4242
NEW_ARTICLE = """title Port Elling opens a floating solar farm
date 2026-11-27

Port Elling switched on a floating solar farm of 4,000 panels in its timber basin on Friday.

The harbour master, Ines Varga, said the farm will power the cranes and the ferry terminal.
"""
QUESTION = "What will the floating solar farm in Port Elling power?"


async def replica(
    tg: FakeTelegram, database_url: str, data_dir: Path, home: Path
) -> asyncio.subprocess.Process:
    return await newsdesk_serve(
        {
            "NEWSDESK_BACKEND": "postgres",
            "NEWSDESK_DATABASE_URL": database_url,
            "NEWSDESK_MULTILINGUAL": "false",
            "NEWSDESK_TELEGRAM_TOKEN": tg.token,
            "NEWSDESK_TELEGRAM_API_URL": tg.url,
            "NEWSDESK_ADMIN_IDS": str(ADMIN),
            "NEWSDESK_DATA_DIR": str(data_dir),
            "NEWSDESK_INDEX_DIR": str(home / "index"),  # unused by this backend but for caches
            "NEWSDESK_STATE_DB": str(home / "bot.sqlite"),
            "NEWSDESK_FEED_STATE_DB": str(home / "feeds.sqlite"),
        }
    )


async def test_a_reindex_on_one_replica_is_answered_from_by_the_other(
    database_url: str, encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    # Each desk has its own data folder: only desk A's has the new article, so whatever desk
    # B answers about it can only come from the shared database.
    desk_a, desk_b = tmp_path / "a", tmp_path / "b"
    for desk in (desk_a, desk_b):
        (desk / "data").mkdir(parents=True)
        shutil.copy(DATA / "000_ce1b1adc1bd8e6a9.txt", desk / "data")
    store = PostgresStore(database_url)
    build_index([desk_a / "data"], store, encoder)
    store.close()

    async with (
        FakeTelegram(token="111111:DESK-A", bot_username="desk_a_bot") as tg_a,
        FakeTelegram(token="222222:DESK-B", bot_username="desk_b_bot") as tg_b,
    ):
        processes = [
            await replica(tg_a, database_url, desk_a / "data", desk_a),
            await replica(tg_b, database_url, desk_b / "data", desk_b),
        ]
        logs: list[str] = []
        try:
            for tg in (tg_a, tg_b):
                await tg.wait_for(lambda tg=tg: tg.calls_to("getUpdates"), 150, "polling")
            reader = tg_b.user(7, "Reader")
            tg_b.send_text(reader, WANG_YI_QUESTION)
            first = await tg_b.next_bot_message(reader["id"], timeout=60)
            assert first.formatted("bold")[0] == WANG_YI_UN
            tg_b.send_text(reader, QUESTION)
            before = await tg_b.next_bot_message(reader["id"], timeout=60)
            assert "Port Elling" not in before.text  # not indexed yet anywhere

            write(desk_a / "data", "port-elling.txt", NEW_ARTICLE)
            admin = tg_a.user(ADMIN, "Admin")
            tg_a.send_text(admin, "/reindex")
            status = await tg_a.next_bot_message(admin["id"], timeout=60)
            await tg_a.wait_for(lambda: status.text.startswith("Index updated"), 120, "the reindex")
            assert "1 new" in status.text

            tg_b.send_text(reader, QUESTION)
            after = await tg_b.next_bot_message(reader["id"], timeout=60)
            assert "Port Elling" in after.text
            assert after.formatted("bold")[0] in NEW_ARTICLE  # its sentence, marked
        finally:
            for process in processes:
                logs.append(await stopped(process, signal.SIGTERM))
    for process, log in zip(processes, logs, strict=True):
        assert process.returncode == 0, log
        assert "newsdesk bot stopped" in log
