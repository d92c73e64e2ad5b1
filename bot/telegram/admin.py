"""Admins' commands: /reindex, /stats and document uploads, and the `admin_only` guard that
every admin command (here and in bot.telegram.feeds) goes through."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.telegram import render
from bot.telegram.api import ChatType, Document, Message, TelegramError, Update
from bot.telegram.desk import Context, Desk, message_of, reply
from bot.telegram.progress import StatusMessage
from embeddings import BuildStoppedError, NewsdeskError
from embeddings.ingest.upload import safe_filename

logger = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def admin_only(handler: Handler) -> Handler:
    """Refuse (and log) anyone whose user id is not in NEWSDESK_ADMIN_IDS."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or user.id not in context.bot_data.admin_ids:
            logger.warning(
                "refused %s from non-admin user %s", handler.__name__, user.id if user else None
            )
            await reply(update, "Sorry, admins only.")
            return
        if message is not None and message.forward_origin is not None:
            # Someone else's words, passed on: not the admin asking for this now.
            logger.warning("refused forwarded %s from admin %s", handler.__name__, user.id)
            await reply(update, "I don't run forwarded admin commands; send it yourself.")
            return
        if message is not None and message.chat.type != ChatType.PRIVATE:
            # /stats and build reports are not for everyone in a group to read.
            logger.warning("refused %s from admin %s in a group", handler.__name__, user.id)
            await reply(update, "Admin commands work only in a private chat with me.")
            return
        await handler(update, context)

    return guarded


async def _in_background(context: Context, job: Coroutine[Any, Any, None]) -> None:
    """Run a long job (a build) after its update has been handled, holding the indexing lock.

    An update is confirmed to Telegram when its handler returns (bot.telegram.polling): a build of
    minutes must not hold back the confirmation of every update after it. Callers check that
    the lock is free first; acquiring a free asyncio.Lock does not suspend, so no second job
    can slip in between the check and this."""
    indexing = context.bot_data.indexing
    await indexing.acquire()

    async def locked() -> None:
        try:
            await job
        finally:
            indexing.release()

    context.application.create_task(locked())


@admin_only
async def reindex(update: Update, context: Context) -> None:
    """/reindex: rebuild from the data folder in the background, editing a status message."""
    desk = context.bot_data
    if desk.indexing.locked():
        building = "A reindex is already running; I'll post its summary when it ends."
        await reply(update, desk.busy(building))
        return
    await _in_background(context, _reindex(update, desk))


async def _reindex(update: Update, desk: Desk) -> None:
    status = await StatusMessage.post(message_of(update), "Reindexing…", desk.progress_edit_seconds)
    kept = "The previous index is still answering questions."
    async with status.ending(f"Reindex failed unexpectedly (see the bot's log). {kept}"):
        try:
            summary = await asyncio.to_thread(desk.engine.build, [desk.data_dir], status.update)
        except BuildStoppedError:
            logger.info("reindex stopped: newsdesk is shutting down")
            await status.finish("Reindex stopped: newsdesk is shutting down. Nothing was changed.")
        except NewsdeskError as error:
            logger.warning("reindex failed: %s", error)
            await status.finish(f"Reindex failed: {error}. {kept}")
        else:
            logger.info("reindex: %s", _one_line(render.summary_text(summary)))
            await status.finish(render.summary_text(summary))
            await desk.compact_if_due(summary)


@admin_only
async def upload(update: Update, context: Context) -> None:
    """An admin's document: validate, save into the data folder, index incrementally."""
    message = message_of(update)
    document = message.document
    if document is None:
        return
    desk = context.bot_data
    name = document.file_name or "upload"
    if document.file_size and document.file_size > desk.upload_max_bytes:
        await reply(update, _too_big(name, document.file_size, desk.upload_max_bytes))
        return
    if desk.indexing.locked():
        building = "A reindex is running; send the file again when it has finished."
        await reply(update, desk.busy(building))
        return
    await _in_background(context, _add_upload(message, document, name, desk))


async def _add_upload(message: Message, document: Document, name: str, desk: Desk) -> None:
    status = await StatusMessage.post(message, f"Checking {name}…", desk.progress_edit_seconds)
    failed = f"Could not add {name}: an unexpected error (see the bot's log). Nothing was changed."
    async with status.ending(failed):
        await _check_and_add(status, document, name, desk)


async def _check_and_add(status: StatusMessage, document: Document, name: str, desk: Desk) -> None:
    try:
        content = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError:  # retried already (bot.telegram.retry); the admin can send it again
        # The reason stays in the log: a download error may quote the file URL, token and all.
        logger.warning("could not download upload %r", name, exc_info=True)
        await status.finish(f"Could not download {name}; please send it again.")
        return
    if len(content) > desk.upload_max_bytes:
        logger.info("upload %r rejected: %s bytes", name, len(content))
        await status.finish(_too_big(name, len(content), desk.upload_max_bytes))
        return
    pending: int | None = None  # recorded, so that a restart can undo a killed build
    try:
        target = desk.data_dir / safe_filename(name)
        pending = await asyncio.to_thread(
            desk.pending.add, status.message.chat.id, status.message.message_id, target
        )
        articles, summary = await asyncio.to_thread(
            desk.engine.add_file, desk.data_dir, name, content, status.update
        )
    except BuildStoppedError:
        await status.finish(
            f"Stopped before {name} was indexed: newsdesk is shutting down. "
            "Nothing was changed; please send it again once it is back."
        )
        return
    except NewsdeskError as error:
        logger.info("upload %r rejected: %s", name, error)
        await status.finish(f"Rejected {name}: {error}. Nothing was changed.")
        return
    finally:
        if pending is not None:
            await asyncio.to_thread(desk.pending.remove, pending)
    titles = "\n".join(f"• {a.title}" for a in articles[:10])
    more = f"\n… and {len(articles) - 10} more" if len(articles) > 10 else ""
    saved = Path(articles[0].path).name if articles else name  # folders are never kept
    logger.info(
        "upload %r: added %s article(s); %s",
        saved,
        len(articles),
        _one_line(render.summary_text(summary)),
    )
    await status.finish(
        f"Added {saved}: {len(articles)} article(s).\n{titles}{more}\n\n"
        + render.summary_text(summary)
    )
    await desk.compact_if_due(summary)


def _one_line(text: str) -> str:
    """A multi-line report as one log line."""
    return "; ".join(line.strip("• ") for line in text.splitlines() if line.strip())


def _too_big(name: str, size: int, limit: int) -> str:
    return f"Rejected {name}: it is {_size(size)} and the limit is {_size(limit)}."


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1_000_000 else f"{count / 1e3:.1f} kB"


@admin_only
async def stats(update: Update, context: Context) -> None:
    """/stats: questions answered and declined, feedback, latency, index size."""
    desk = context.bot_data
    usage = await asyncio.to_thread(desk.log.usage)
    index = await desk.stats()
    text = render.usage_html(usage, index) if index else "No index yet."
    if await asyncio.to_thread(desk.engine.backfill_due):
        text += "\n" + render.escape(desk.engine.backfill_status())
    await reply(update, text)
