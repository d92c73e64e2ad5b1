"""The bot over an index that lacks the multilingual vectors: it starts adding them in the
background at once, while uploads are indexed (in English) and answered within seconds,
questions in other languages are told plainly to wait, and /stats shows how far it is."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.settings import load_settings
from bot.telegram.app import build_application, started
from bot.telegram.botlog import BotLog
from embeddings import Engine, SentenceTransformerEncoder, open_store

from ..helpers import SlowMultilingual
from .conftest import ADMIN_ID, RunningBot
from .fake_telegram import BotMessage, FakeTelegram

pytestmark = [pytest.mark.timeout(180)]

RUSSIAN = "Когда снова открыли мост в гавани?"
BRIDGE = (
    b"# Harbour bridge reopens\n\n"
    b"The harbour bridge reopened on Monday after a tugboat struck one of its pillars.\n\n"
    b"Engineers said the pillar held and traffic now flows in both directions.\n"
)


@pytest.fixture
async def bot(
    tg: FakeTelegram,
    small_archive: tuple[Path, Path],
    encoder: SentenceTransformerEncoder,
    tmp_path: Path,
) -> AsyncIterator[RunningBot]:
    data_dir, index_dir = small_archive
    settings = load_settings(
        data_dir=data_dir, index_dir=index_dir, telegram_token=tg.token,
        telegram_api_url=tg.url, admin_ids=str(ADMIN_ID), state_db=tmp_path / "bot.sqlite",
        progress_edit_seconds=0.2,
    )  # fmt: skip
    # Half a second a text: the backfill runs through the whole test.
    model = SlowMultilingual(seconds=0.5)
    engine = Engine(open_store(index_dir), encoder, multilingual=model)  # type: ignore[arg-type]
    engine.load()
    log = BotLog(settings.state_db)
    async with started(build_application(settings, engine, log), poll_timeout=1) as app:
        yield RunningBot(tg, app, settings, engine, log)
    log.close()


async def said(tg: FakeTelegram, text: str, document: bytes | None = None) -> BotMessage:
    admin = tg.user(ADMIN_ID, "Admin")
    mark = tg.mark()
    if document is None:
        tg.send_text(admin, text)
    else:
        tg.send_document(admin, text, document)
    return await tg.next_bot_message(admin["id"], after=mark, timeout=60)


async def test_an_upload_during_the_backfill_is_answered_at_once(
    tg: FakeTelegram, bot: RunningBot
) -> None:
    model = bot.engine.multilingual
    assert isinstance(model, SlowMultilingual)
    await tg.wait_for(lambda: model.started.is_set(), timeout=60, what="the backfill")
    status = await said(tg, "bridge.md", BRIDGE)
    added = await tg.wait_for(
        lambda: status if status.text.startswith(("Added", "Rejected")) else None, timeout=30
    )
    assert added.text.startswith("Added bridge.md: 1 article(s)"), added.text
    answer = await said(tg, "When did the harbour bridge reopen?")
    assert "Harbour bridge reopens" in answer.text
    pending = await said(tg, RUSSIAN)
    assert re.fullmatch(
        r"Multilingual search is still being prepared \(\d+%\); English questions work now\.",
        pending.text,
    ), pending.text
    stats = await said(tg, "/stats")
    assert re.search(r"Multilingual search is still being prepared \(\d+%\)", stats.text), (
        stats.text
    )
    assert bot.engine.backfill_due()  # all of this happened while it was still encoding
