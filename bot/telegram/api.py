"""The only module that imports python-telegram-bot; the rest of `bot` uses these names."""

from __future__ import annotations

from embeddings import MissingDependencyError

try:
    from telegram import (
        BotCommand,
        BotCommandScopeChat,
        Document,
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        InlineQueryResultArticle,
        InputTextMessageContent,
        LinkPreviewOptions,
        Message,
        MessageEntity,
        ReplyParameters,
        Update,
    )
    from telegram.constants import ChatType, ParseMode
    from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
    from telegram.ext import (
        AIORateLimiter,
        Application,
        ApplicationBuilder,
        CallbackContext,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        ExtBot,
        InlineQueryHandler,
        JobQueue,
        MessageHandler,
        filters,
    )
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"python-telegram-bot is not installed ({_error}); "
        "pip install 'python-telegram-bot[rate-limiter,webhooks]'"
    ) from None

__all__ = [
    "AIORateLimiter",
    "Application",
    "ApplicationBuilder",
    "BadRequest",
    "BotCommand",
    "BotCommandScopeChat",
    "CallbackContext",
    "CallbackQueryHandler",
    "ChatType",
    "CommandHandler",
    "ContextTypes",
    "Document",
    "ExtBot",
    "InlineKeyboardButton",
    "InlineKeyboardMarkup",
    "InlineQueryHandler",
    "InlineQueryResultArticle",
    "InputTextMessageContent",
    "JobQueue",
    "LinkPreviewOptions",
    "Message",
    "MessageEntity",
    "MessageHandler",
    "NetworkError",
    "ParseMode",
    "ReplyParameters",
    "RetryAfter",
    "TelegramError",
    "TimedOut",
    "Update",
    "filters",
]
