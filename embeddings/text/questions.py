"""A question as the engine accepts it: checked before anything heavy loads, so that an empty
or over-long question is told so at once (the command line checks it before the models load)."""

from __future__ import annotations

import html

from embeddings.errors import QuestionError


def check_question(question: str, max_chars: int) -> str:
    """The question, trimmed; QuestionError when it is empty or longer than `max_chars`.

    HTML entities are decoded ("AT&amp;T" pasted from a web page means AT&T); anything
    else, tags included, stays plain text to search for."""
    text = " ".join(html.unescape(question).split())
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is {len(text):,} characters long; please keep it under {max_chars:,}"
        )
    return text
