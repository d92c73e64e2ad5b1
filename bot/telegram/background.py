"""What the bot does in the background once it runs: put back uploads that a killed process
left half done, then add the multilingual vectors when the index lacks them.

Both run as a job (bot.telegram.app schedules it at start), so the bot answers from its first
second, and the application's stop waits for the job: `Engine.stop`, set on shutdown, ends
either build at its next batch.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.telegram.api import ExtBot, TelegramError
from bot.telegram.desk import Context, Desk
from embeddings import NewsdeskError

logger = logging.getLogger(__name__)


async def after_start(context: Context) -> None:
    desk = context.bot_data
    await roll_back_uploads(desk, context.bot)
    await backfill(desk)


async def roll_back_uploads(desk: Desk, bot: ExtBot[Any]) -> None:
    """Undo each upload whose build never ended (see bot.telegram.pending) and resolve its
    status message; then update the index from the folder, in case the build had published
    just before the process died."""
    pending = await asyncio.to_thread(desk.pending.all)
    if not pending:
        return
    async with desk.indexing:
        for upload in pending:
            await asyncio.to_thread(upload.roll_back)
        try:
            await asyncio.to_thread(desk.engine.build, [desk.data_dir])
        except NewsdeskError as error:
            logger.warning("could not update the index after rolling uploads back: %s", error)
    for upload in pending:
        logger.warning("rolled back %s: newsdesk stopped before it was indexed", upload.path)
        try:
            await bot.edit_message_text(
                f"Stopped before {upload.path.name} was indexed (newsdesk was restarted). "
                "Nothing was changed; please send it again.",
                chat_id=upload.chat_id,
                message_id=upload.message_id,
            )
        except TelegramError as error:  # deleted, or too old to edit: the file is back anyway
            logger.warning("could not resolve the status of %s: %s", upload.path.name, error)
        await asyncio.to_thread(desk.pending.remove, upload.id)


async def backfill(desk: Desk) -> None:
    """Encode the missing multilingual vectors in a worker thread without the indexing lock
    (uploads and feed polls go on in English), then take the lock to write them."""
    engine, sources = desk.engine, [desk.data_dir]
    if not await asyncio.to_thread(engine.backfill_due):
        return
    logger.info("adding the multilingual vectors; English questions are answered meanwhile")
    try:
        await asyncio.to_thread(engine.prepare_backfill, sources)
        async with desk.indexing:
            summary = await asyncio.to_thread(engine.finish_backfill, sources)
    except NewsdeskError as error:
        logger.warning("the multilingual vectors were not added: %s", error)
        return
    logger.info("added the multilingual vectors in %.1f s", summary.seconds)
