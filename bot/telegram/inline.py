"""Inline mode's texts: result descriptions cut at a word, and the hint result shown when a
query is empty or nothing answers it (an empty list would show the user nothing at all)."""

from __future__ import annotations

from bot.telegram.api import InlineQueryResultArticle, InputTextMessageContent

DESCRIPTION_CHARS = 200


def description(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """`text` cut at the last word boundary within `limit` characters, "…" marking a cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:-—") + "…"


def hint_result(question: str) -> InlineQueryResultArticle:
    """One result that says how to ask; choosing it shares nothing misleading."""
    if question:
        title = "Nothing in the archive answers that"
        hint = "Try other words, or a name, place or date from the story."
    else:
        title = "Type a question about the news archive"
        hint = "For example: What did Wang Yi say about the UN?"
    return InlineQueryResultArticle(
        id="hint",
        title=title,
        description=hint,
        input_message_content=InputTextMessageContent(f"{title}. {hint}"),
    )
