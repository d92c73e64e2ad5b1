"""Plain text both front ends show: dates, citations, passages trimmed around their answer,
and the report of a feed poll (printed by `newsdesk fetch`, logged by the bot)."""

from __future__ import annotations

import datetime as dt

from embeddings import Article, BuildSummary, Result
from embeddings.feeds.poller import PollReport


def human_date(iso: str | None) -> str | None:
    if not iso:
        return None
    try:
        return dt.date.fromisoformat(iso).strftime("%-d %b %Y")
    except ValueError:
        return iso


def citation_parts(result: Result | Article) -> list[str]:
    """Date and source, the parts of a citation that follow the title."""
    return [part for part in (human_date(result.date), result.source) if part]


ASKED_CHARS = 160  # the question an answer turn answers, shown above it, is cut to about this


def asked_line(result: Result, limit: int = ASKED_CHARS) -> str | None:
    """ "Asked: …" for an answer turn of a briefing or interview (the question it answers, cut
    at a word), so the reader sees the exchange; None for any other passage."""
    if not result.asked:
        return None
    asked = " ".join(result.asked.split())
    if len(asked) > limit:
        cut = asked.rfind(" ", 0, limit)
        asked = asked[: cut if cut > 0 else limit].rstrip(" ,;:") + "…"
    return f"Asked: {asked}"


def trim_around(text: str, start: int, end: int, limit: int) -> tuple[str, int, int]:
    """`text` cut to about `limit` characters around [start, end), at word boundaries.

    Returns the trimmed text and the span's new offsets. The span itself is never cut.
    """
    if len(text) <= limit:
        return text, start, end
    room = max(limit - (end - start), 0)
    left = max(start - room // 2, 0)
    right = min(end + (room - (start - left)), len(text))
    left = max(min(left, start - max(room - (right - end), 0)), 0)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else start
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else end
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    trimmed = prefix + text[left:right] + suffix
    return trimmed, start - left + len(prefix), end - left + len(prefix)


def poll_text(report: PollReport, summary: BuildSummary | None) -> str:
    """One feed poll, for the terminal and the log."""
    lines = [
        f"Polled {report.feeds} feed(s): {len(report.new)} new, {len(report.changed)} changed, "
        f"{report.unchanged} unchanged, {report.duplicates} already saved under another address"
        + (f", {len(report.deferred)} waiting out a backoff" if report.deferred else "")
        + "."
    ]
    lines += [f"failed {failure}" for failure in report.failed]
    lines += [f"skipped {problem}" for problem in report.problems]
    if summary is not None:
        lines.append(
            f"Indexed {summary.new} new and {summary.changed} changed article(s) "
            f"in {summary.seconds:.1f} s; the archive holds {summary.articles:,}."
        )
    return "\n".join(lines)
