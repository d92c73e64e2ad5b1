"""The real bot (bot.telegram.app.build_application + bot.telegram.app.started, as
`newsdesk serve` runs it),
over the real engine, talking real HTTP to a fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings, load_settings
from bot.telegram.app import App, build_application, started
from bot.telegram.botlog import BotLog
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store

from ..helpers import DATA
from .fake_telegram import FakeTelegram

ADMIN_ID = 4242


@dataclass
class RunningBot:
    tg: FakeTelegram
    app: App
    settings: Settings
    engine: Engine
    log: BotLog

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


BotFactory = Callable[..., AbstractAsyncContextManager[RunningBot]]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def start_bot(
    tg: FakeTelegram,
    shipped_copy: tuple[Path, Path],
    encoder: SentenceTransformerEncoder,
    tmp_path: Path,
) -> BotFactory:
    """Starts the bot over private copies of the shipped archive and its index; keyword
    arguments override settings (as NEWSDESK_* variables would)."""
    data_dir, index_dir = shipped_copy

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningBot]:
        values: dict[str, Any] = {
            "data_dir": data_dir,
            "index_dir": index_dir,
            "telegram_token": tg.token,
            "telegram_api_url": tg.url,
            "admin_ids": str(ADMIN_ID),
            "state_db": tmp_path / "bot.sqlite",
            "progress_edit_seconds": 0.2,
        }
        settings = load_settings(**{**values, **overrides})
        engine = Engine(open_store(settings.index_dir), encoder, settings.max_question_chars)
        engine.load()
        log = BotLog(settings.state_db)
        app = build_application(settings, engine, log)
        async with started(app, poll_timeout=1):
            yield RunningBot(tg, app, settings, engine, log)
        app.bot_data.close()
        log.close()

    return start


@pytest.fixture
def small_archive(tmp_path: Path, encoder: SentenceTransformerEncoder) -> tuple[Path, Path]:
    """One article, indexed with the real model (an index of seconds, not of minutes)."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "000_ce1b1adc1bd8e6a9.txt", data)
    build_index([data], open_store(tmp_path / "index"), encoder)
    return data, tmp_path / "index"
