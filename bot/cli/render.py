"""Answers for the terminal (`newsdesk ask`) and as JSON (`newsdesk ask --json`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.text import asked_line, citation_parts
from bot.when_text import entry_parts, nearest_line, period_line
from embeddings import Answer, Timeline


def terminal_answer(answer: Answer, mark: Callable[[str], str]) -> str:
    """Numbered results, the answering sentence passed through `mark`, each with its citation."""
    lines = [line for line in (period_line(answer.scope), nearest_line(answer)) if line]
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
        "period": period_line(answer.scope),
        "nearest_dates": list(answer.nearest_dates),
        "results": [
            {
                "article_id": r.article_id,
                "title": r.title,
                "date": r.date,
                "source": r.source,
                "url": r.url,
                "text": r.text,
                "asked": r.asked,
                "answer_sentence": r.answer_sentence,
                "score": round(r.score, 4),
            }
            for r in answer.results
        ],
    }


def terminal_timeline(found: Timeline) -> str:
    """A timeline: per entry its date, its answer sentence and its citation."""
    lines = [f"Timeline: {found.question}"]
    period = period_line(found.scope)
    if period:
        lines.append(period)
    if not found.entries:
        lines.append("Nothing in the archive answers this.")
    for result in found.entries:
        date, sentence, cited = entry_parts(result)
        lines += ["", f"{date}  {sentence}", f"   {cited}"]
        if result.url:
            lines.append(f"   {result.url}")
    return "\n".join(lines) + "\n"


def json_timeline(found: Timeline) -> dict[str, Any]:
    return {
        "question": found.question,
        "period": period_line(found.scope),
        "timeline": [
            {
                "date": r.date,
                "article_id": r.article_id,
                "title": r.title,
                "source": r.source,
                "url": r.url,
                "answer_sentence": r.answer_sentence,
            }
            for r in found.entries
        ],
    }
