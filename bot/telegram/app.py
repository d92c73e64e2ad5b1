"""The one place the Telegram application is assembled and run (`newsdesk serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from bot.cli.progressbar import ProgressBar
from bot.indexinfo import index_info, serving_line
from bot.redact import Redactor
from bot.settings import Settings, SettingsError, make_engine, secrets_of
from bot.telegram import admin, background, buttons, feeds, follow, other_messages, questions
from bot.telegram.api import (
    Application,
    ApplicationBuilder,
    BotCommand,
    BotCommandScopeChat,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    InlineQueryHandler,
    JobQueue,
    MessageHandler,
    TelegramError,
    Update,
    filters,
)
from bot.telegram.botlog import BotLog
from bot.telegram.desk import CONTEXT_TYPES, Context, Desk
from bot.telegram.errors import on_error
from bot.telegram.polling import Poller
from bot.telegram.preflight import check_bot_api
from bot.telegram.retry import RetryingRateLimiter
from bot.telegram.webhook import WebhookServer, webhook_secret
from embeddings import Engine
from embeddings.index.stopping import Stop

logger = logging.getLogger(__name__)

PUBLIC_COMMANDS = [
    BotCommand("ask", "Ask the archive a question"),
    BotCommand("help", "What the archive holds and how to ask"),
    BotCommand("sources", "What is indexed, by source"),
    BotCommand("follow", "Be alerted to new articles on a topic"),
    BotCommand("following", "Topics you follow"),
]
ADMIN_COMMANDS = [
    *PUBLIC_COMMANDS,
    BotCommand("reindex", "Rebuild the index from the data folder"),
    BotCommand("stats", "Questions, feedback, latency and index size"),
    BotCommand("feeds", "Followed news feeds and their status"),
    BotCommand("addfeed", "Follow a news feed: /addfeed URL"),
    BotCommand("removefeed", "Stop following a feed: /removefeed URL"),
]

# ExtBot[int]: the bot of an application with a rate limiter (RetryingRateLimiter). JobQueue[Any]:
# python-telegram-bot's builder does not carry custom context types over to its job queue's type.
App = Application[ExtBot[int], Context, dict[Any, Any], dict[Any, Any], Desk, JobQueue[Any]]


def token_of(settings: Settings) -> str:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise SettingsError(
            "NEWSDESK_TELEGRAM_TOKEN is not set: create a bot with @BotFather and put its "
            "token in the environment or in .env"
        )
    return settings.telegram_token.get_secret_value()


def build_application(settings: Settings, engine: Engine, log: BotLog) -> App:
    """The bot with every handler, the error handler and outgoing flood control."""
    builder = (
        ApplicationBuilder()
        .token(token_of(settings))
        .context_types(CONTEXT_TYPES)  # handlers read the Desk as context.bot_data
        # Queues outgoing requests under Telegram's limits, waits out a 429's retry_after and
        # retries what a flaky network or a 5xx lost, where that cannot send anything twice.
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        # Many people ask at once; each update is handled as its own task.
        .concurrent_updates(True)
        .post_init(_register_commands)
    )
    if settings.telegram_api_url:
        api = settings.telegram_api_url.rstrip("/")
        builder = builder.base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    app = builder.build()
    app.bot_data.configure(settings, engine, log)
    app.add_handler(CommandHandler(["start", "help"], questions.start))
    app.add_handler(CommandHandler("ask", questions.ask_command))
    app.add_handler(CommandHandler("sources", feeds.sources))
    app.add_handler(CommandHandler("reindex", admin.reindex))
    app.add_handler(CommandHandler("stats", admin.stats))
    app.add_handler(CommandHandler("feeds", feeds.feeds))
    app.add_handler(CommandHandler("addfeed", feeds.addfeed))
    app.add_handler(CommandHandler("removefeed", feeds.removefeed))
    app.add_handler(CommandHandler("follow", follow.follow))
    app.add_handler(CommandHandler("following", follow.following))
    app.add_handler(CommandHandler("unfollow", follow.unfollow))
    # Uploads are an admin's private business; documents shared in groups are not for us.
    new_messages = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE
    readers = ~filters.User(user_id=settings.admin_ids)
    app.add_handler(
        MessageHandler(
            new_messages & filters.Document.ALL & private & readers, other_messages.file_from_reader
        )
    )
    app.add_handler(MessageHandler(new_messages & filters.Document.ALL & private, admin.upload))
    # A question is text, or a photo's caption; an edited question gets its answer edited.
    asked = new_messages | filters.UpdateType.EDITED_MESSAGE
    text = (filters.TEXT | (filters.PHOTO & filters.CAPTION)) & ~filters.COMMAND
    app.add_handler(MessageHandler(asked & text, questions.text_message))
    media = (
        filters.Sticker.ALL | filters.VOICE | filters.VIDEO | filters.VIDEO_NOTE | filters.AUDIO
        | filters.ANIMATION | filters.PHOTO | filters.LOCATION | filters.CONTACT
    )  # fmt: skip
    app.add_handler(MessageHandler(new_messages & media & private, other_messages.unsupported))
    # A lone unknown command in a private chat gets one line rather than silence.
    app.add_handler(
        MessageHandler(new_messages & filters.COMMAND & private, other_messages.unknown_command)
    )
    app.add_handler(CallbackQueryHandler(follow.unfollow_button, pattern=follow.UNFOLLOW_PATTERN))
    app.add_handler(CallbackQueryHandler(buttons.press))
    app.add_handler(InlineQueryHandler(questions.inline_query))
    app.add_error_handler(on_error)
    # Feeds are polled on the interval from shortly after start; feeds.txt is read each time,
    # so a poll with no feeds listed costs nothing.
    assert app.job_queue is not None  # python-telegram-bot[job-queue] is a dependency
    app.job_queue.run_repeating(
        feeds.poll_feeds,
        interval=settings.feed_interval,
        first=min(settings.feed_interval, 10.0),
        name="feeds",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    app.job_queue.run_once(background.after_start, when=0, name="after start")
    # New articles from uploads, reindexes and other replicas' builds reach followers here.
    app.job_queue.run_repeating(
        follow.check_alerts,
        interval=settings.alert_interval,
        first=min(settings.alert_interval, 5.0),
        name="alerts",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    return app


async def _register_commands(app: App) -> None:
    """Let Telegram clients show our commands; admins see theirs in their private chat."""
    await app.bot.set_my_commands(PUBLIC_COMMANDS)
    for admin_id in sorted(app.bot_data.admin_ids):
        try:
            await app.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
        except TelegramError as error:  # the admin may never have opened a chat with the bot
            logger.info("admin commands not set for %s: %s", admin_id, error)


class RedactSecrets(logging.Filter):
    """Removes a secret, in every spelling (bot.redact), from every log record: httpx logs
    request URLs that carry the token, percent-encoded in file downloads."""

    def __init__(self, secret: str, mask: str = "<token>") -> None:
        super().__init__()
        self._redactor = Redactor([secret], mask)

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self._redactor
        message = record.getMessage()
        if redact.found_in(message):
            record.msg = redact.text(message)
            record.args = ()
        # A traceback quotes exception messages, and a network error may quote a request URL:
        # format it here (formatters reuse exc_text) so it can be redacted too.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact.text(record.stack_info)
        return True


def configure_logging(settings: Settings, debug: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # Request lines name the token in their URL; keep them out unless debugging.
    logging.getLogger("httpx").setLevel(logging.DEBUG if debug else logging.WARNING)
    # The token, and the database password when the index is in PostgreSQL.
    redactions = [RedactSecrets(secret) for secret in {token_of(settings), *secrets_of(settings)}]
    for handler in logging.getLogger().handlers:
        for redact in redactions:
            handler.addFilter(redact)


def prepare_engine(settings: Settings, stop: Stop | None = None) -> Engine:
    """The engine with its index loaded; built from the data folder first if there is none
    (a build that `stop` ends early, e.g. on SIGTERM)."""
    engine = make_engine(settings)
    if stop is not None:
        engine.stop = stop
    if not engine.has_index():
        logger.info("no index yet: building one from %s", settings.data_dir)
        summary = engine.build([settings.data_dir], ProgressBar())
        logger.info("indexed %s articles, %s passages", summary.articles, summary.passages)
    engine.load()
    logger.info("%s", serving_line(index_info(settings, engine)))
    return engine


@contextlib.asynccontextmanager
async def started(app: App, poll_timeout: int = 10) -> AsyncIterator[App]:
    """The bot initialised, its commands registered and long polling running; stopped and
    shut down on exit. `newsdesk serve` and the end-to-end tests both run the bot this way.

    On the way out polling stops first, answers being written are finished, and only then
    are their updates confirmed to Telegram (see bot.telegram.polling)."""
    async with app:  # initialize() and, on the way out, shutdown()
        await _register_commands(app)
        await app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        await app.start()
        poller = Poller(app, poll_timeout, Update.ALL_TYPES)
        poller.start()
        try:
            yield app
        finally:
            # Builds in flight (uploads, feed polls, the backfill) end at their next batch:
            # the application's stop waits for them.
            app.bot_data.engine.stop.set()
            await poller.stop()
            logger.info("polling stopped and handled updates confirmed")
            await app.stop()


async def _signalled(app: App) -> None:
    """Return at SIGINT or SIGTERM, having told the builds in flight to stop at their next
    batch (the application's stop waits for them)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: signal.Signals) -> None:
        logger.info("%s received: finishing the answers in progress, then stopping", signum.name)
        app.bot_data.engine.stop.set(signum.name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    await stop.wait()


async def _poll_until_signalled(app: App) -> None:
    async with started(app):
        logger.info("newsdesk bot is polling for updates; stop it with Ctrl-C")
        await _signalled(app)


async def _webhook_until_signalled(
    app: App, settings: Settings, webhook_url: str, secret: str | None
) -> None:
    """Updates posted to our own listener (bot.telegram.webhook) go to the update queue."""

    async def deliver(data: dict[str, Any]) -> None:
        await app.update_queue.put(Update.de_json(data, app.bot))

    path = "/" + (urlparse(webhook_url).path.strip("/") or "telegram")
    server = WebhookServer(path, secret, settings.webhook_max_bytes, deliver)
    async with app:
        await _register_commands(app)
        await app.bot.set_webhook(
            webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        server.start(settings.webhook_listen, settings.webhook_port)
        logger.info(
            "newsdesk bot listens on %s:%s%s for %s",
            settings.webhook_listen, server.port, path, webhook_url,
        )  # fmt: skip
        try:
            await _signalled(app)
        finally:
            await server.stop()
            await app.stop()


def run(settings: Settings, webhook_url: str | None = None, debug: bool = False) -> None:
    """`newsdesk serve`: long polling, or a webhook when a public URL is given."""
    token = token_of(settings)
    secret = webhook_secret(settings) if webhook_url else None  # refused before any work
    configure_logging(settings, debug)
    check_bot_api(token, settings.telegram_api_url)
    # Until the bot runs, SIGTERM ends the first build at its next batch (then exits).
    stop = Stop()
    signal.signal(signal.SIGTERM, lambda signum, _: stop.set(signal.Signals(signum).name))
    engine = prepare_engine(settings, stop)
    log = BotLog(settings.state_db)
    app = build_application(settings, engine, log)
    try:
        if webhook_url:
            asyncio.run(_webhook_until_signalled(app, settings, webhook_url, secret))
        else:
            asyncio.run(_poll_until_signalled(app))
    finally:
        app.bot_data.close()
        log.close()
    logger.info("newsdesk bot stopped")
