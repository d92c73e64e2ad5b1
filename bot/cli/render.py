"""Answers for the terminal (`newsdesk ask`) and as JSON (`newsdesk ask --json`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.text import asked_line, citation_parts
from embeddings import Answer


def terminal_answer(answer: Answer, mark: Callable[[str], str]) -> str:
    """Numbered results, the answering sentence passed through `mark`, each with its citation."""
    lines: list[str] = []
    if not answer.answered:
        lines.append(
            "No passage in the archive answers this with confidence "
            f"({answer.confidence:.0%}). Closest weak matches:"
            if answer.results
            else "Nothing in the archive matches this question."
        )
        lines.append("")
    for number, result in enumerate(answer.results, start=1):
        text = result.text
        body = (
            text[: result.answer_start] + mark(result.answer_sentence) + text[result.answer_end :]
        )
        weak = " (weak match)" if not answer.answered else ""
        lines.append(f"{number}. {result.title}{weak}")
        cited = " · ".join(citation_parts(result))
        if cited:
            lines.append(f"   {cited}")
        if result.url:
            lines.append(f"   {result.url}")
        asked = asked_line(result)
        if asked:
            lines.append(f"   {asked}")
        lines.extend("   " + line for line in body.splitlines())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def json_answer(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answered": answer.answered,
        "results": [
            {
                "article_id": r.article_id,
                "title": r.title,
                "date": r.date,
                "url": r.url,
                "text": r.text,
                "asked": r.asked,
                "answer_sentence": r.answer_sentence,
                "score": round(r.score, 4),
            }
            for r in answer.results
        ],
    }
