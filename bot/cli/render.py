"""Answers for the terminal (`newsdesk ask`) and as JSON (`newsdesk ask --json`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.answer_layout import group_by_article, is_close, short_answer
from bot.text import asked_line, citation_parts
from bot.when_text import entry_parts, nearest_line, period_line
from embeddings import Answer, Result, Timeline


def terminal_answer(answer: Answer, mark: Callable[[str], str]) -> str:
    """The period searched (when the question names one), the short answer with its source and
    date, then the results grouped by article: each article's citation once, its passages
    under it, the answering sentence passed through `mark`."""
    lines = [line for line in (period_line(answer.scope), nearest_line(answer)) if line]
    if not answer.answered:
        lines.append(
            "No passage in the archive answers this with confidence "
            f"({answer.confidence:.0%}). Closest weak matches:"
            if answer.results
            else "Nothing in the archive matches this question."
        )
        lines.append("")
    if answer.results and (answer.answered or is_close(answer)):
        top = answer.results[0]
        label = "Answer" if answer.answered else "Closest match (uncertain)"
        cited = " · ".join(reversed(citation_parts(top)))
        lines.append(f"{label}: {mark(short_answer(top, answer.question))}")
        if cited:
            lines.append(f"— {cited}")
        lines.append("")
    weak = " (weak match)" if not answer.answered else ""
    for number, group in enumerate(group_by_article(answer.results), start=1):
        lead = group.lead
        lines.append(f"{number}. {lead.title}{weak}")
        cited = " · ".join(citation_parts(lead))
        if cited:
            lines.append(f"   {cited}")
        if lead.url:
            lines.append(f"   {lead.url}")
        for result in group.results:
            lines.append("")
            lines.extend(_passage_lines(result, mark))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _passage_lines(result: Result, mark: Callable[[str], str]) -> list[str]:
    text = result.text
    body = text[: result.answer_start] + mark(result.answer_sentence) + text[result.answer_end :]
    asked = asked_line(result)
    return ([f"   {asked}"] if asked else []) + ["   " + line for line in body.splitlines()]


def json_answer(answer: Answer) -> dict[str, Any]:
    """Backward compatible: fields are only ever added (`short_answer`, `uncertain`,
    `confidence`, `articles` and each result's `source`)."""
    top = answer.results[0] if answer.results else None
    return {
        "question": answer.question,
        "answered": answer.answered,
        "period": period_line(answer.scope),
        "nearest_dates": list(answer.nearest_dates),
        "confidence": round(answer.confidence, 4),
        "short_answer": short_answer(top, answer.question) if top else None,
        "uncertain": is_close(answer),
        "articles": [
            {
                "article_id": group.lead.article_id,
                "title": group.lead.title,
                "results": list(group.indices),
            }
            for group in group_by_article(answer.results)
        ],
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
