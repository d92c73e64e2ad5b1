"""Engine results → Telegram HTML, and the plain texts of the bot's status messages.

Everything that came from an article or a user is escaped before it goes into Telegram HTML;
only the tags written here are markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.i18n import ENGLISH, Messages
from bot.telegram.botlog import Usage
from bot.text import ASKED_CHARS, asked_line, citation_parts, human_date, trim_around
from bot.when_text import entry_parts, period_line
from embeddings import Article, BuildProgress, BuildSummary, IndexStats, Result, Timeline
from embeddings.feeds.state import FeedState

TELEGRAM_LIMIT = 4096  # characters of visible text per message
PASSAGE_CHARS = 700  # a passage in a chat answer is trimmed around its answer to about this
_TAG = re.compile(r"<[^>]+>")


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, units: int) -> str:
    """`text` cut to at most `units` UTF-16 code units (as Telegram counts), "…" marking a cut."""
    if len(text.encode("utf-16-le")) // 2 <= units:
        return text
    out, used = [], 1
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            break
        out.append(char)
    return "".join(out) + "…"


# Citation fields come from article files anyone may have written: bounded, so that a page
# of results always fits one message however long a title or source is.
_TITLE_UNITS, _SOURCE_UNITS = 200, 100


def citation_html(result: Result | Article) -> str:
    return "— " + citation_fields_html(result)


def citation_fields_html(result: Result | Article, link: str = "link") -> str:
    """Title, date, source and a link named `link`, bounded in length."""
    title = f"<i>{escape(clip(result.title, _TITLE_UNITS))}</i>"
    parts = [title, *(escape(clip(part, _SOURCE_UNITS)) for part in citation_parts(result))]
    if result.url:
        parts.append(f'<a href="{html.escape(result.url, quote=True)}">{escape(link)}</a>')
    return " · ".join(parts)


def result_html(result: Result, number: int, limit: int = TELEGRAM_LIMIT) -> str:
    """One numbered result in at most `limit` visible characters: the passage is trimmed
    around its answer sentence, and the sentence itself cut if it alone is too long."""
    chars = PASSAGE_CHARS
    while True:
        asked = asked_line(result, min(ASKED_CHARS, chars))
        exchange = f"<i>{escape(asked)}</i>\n" if asked else ""
        block = f"{number}. {exchange}{passage_html(result, chars)}\n{citation_html(result)}"
        if visible_length(block) <= limit or chars == 0:
            return block
        chars //= 2


def passage_html(result: Result, chars: int) -> str:
    text, start, end = result.text, result.answer_start, result.answer_end
    if end - start > chars:
        sentence = text[start : start + chars].rstrip() + "…"
        text, end = text[:start] + sentence, start + len(sentence)
    text, start, end = trim_around(text, start, end, chars)
    marked = text[start:end]
    # Telegram refuses an entity over nothing but spaces; such a "sentence" is left plain.
    bold = f"<b>{escape(marked)}</b>" if marked.strip() else escape(marked)
    return escape(text[:start]) + bold + escape(text[end:])


def timeline_html(found: Timeline) -> str:
    """A timeline: per entry its date in bold, the answer sentence, and its citation."""
    period = period_line(found.scope)
    blocks = [f"<b>Timeline</b>{f' · <i>{escape(period)}</i>' if period else ''}"]
    if not found.entries:
        blocks.append("Nothing in the archive answers this.")
    for result in found.entries:
        date, sentence, _ = entry_parts(result)
        blocks.append(f"<b>{escape(date)}</b> {escape(clip(sentence, 300))}\n"
                      f"{citation_html(result)}")  # fmt: skip
    return _whole_blocks(blocks)


def _whole_blocks(blocks: Sequence[str]) -> str:
    """As many whole blocks as fit in one message."""
    kept: list[str] = []
    for block in blocks:
        if visible_length("\n\n".join([*kept, block])) > TELEGRAM_LIMIT:
            break
        kept.append(block)
    return "\n\n".join(kept)


def visible_length(markup: str) -> int:
    """Characters Telegram counts: tags removed, entities decoded, in UTF-16 code units."""
    text = html.unescape(_TAG.sub("", markup))
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- bot texts


def help_html(stats: IndexStats | None, bot_username: str, texts: Messages = ENGLISH) -> str:
    if stats is None:
        holds = escape(texts.building)
    else:
        count = f"{stats.manifest.articles:,}"
        first, last = human_date(stats.first_date), human_date(stats.last_date)
        if first and last:
            holds = texts.holds_span.format(count=count, first=escape(first), last=escape(last))
        else:
            holds = texts.holds.format(count=count)
    return f"{holds}\n\n" + texts.how_to_ask.format(bot=escape(bot_username))


def fit_lines(lines: Sequence[str], limit: int) -> str:
    """As many whole lines as fit in `limit` visible UTF-16 units, then "… and N more"."""
    costs = [visible_length(line) + 1 for line in lines]
    if sum(costs) <= limit + 1:
        return "\n".join(lines)
    room, used, kept = limit - 30, 0, 0  # 30: room for the "and N more" line
    while kept < len(lines) and used + costs[kept] <= room:
        used += costs[kept]
        kept += 1
    return "\n".join([*lines[:kept], f"… and {len(lines) - kept:,} more"])


def sources_html(stats: IndexStats, limit: int = TELEGRAM_LIMIT) -> str:
    """Sources by article count, as many as fit in `limit`; titles and names clipped."""
    head = f"<b>{stats.manifest.articles:,} articles</b> by source:"
    newest = ""
    if stats.newest_title:
        title = escape(clip(stats.newest_title, _TITLE_UNITS))
        newest = f"\n\nNewest: <i>{title}</i> ({human_date(stats.last_date)})"
    lines = [
        f"• {escape(clip(source, _SOURCE_UNITS))}: {count:,}"
        for source, count in stats.by_source.items()
    ]
    room = limit - visible_length(head) - visible_length(newest) - 1
    return f"{head}\n{fit_lines(lines, room)}{newest}"


def summary_text(summary: BuildSummary) -> str:
    text = (
        f"Index updated in {summary.seconds:.1f} s: {summary.articles:,} articles, "
        f"{summary.passages:,} passages ({summary.new:,} new, {summary.changed:,} changed, "
        f"{summary.removed:,} removed)."
    )
    if summary.problems:
        shown = "\n".join(f"• {p}" for p in summary.problems[:5])
        more = f"\n… and {len(summary.problems) - 5} more" if len(summary.problems) > 5 else ""
        text += f"\nSkipped {len(summary.problems)}:\n{shown}{more}"
    if summary.compaction_due:
        text += "\nCompacting the index in the background; questions are answered meanwhile."
    return text


def progress_text(step: BuildProgress) -> str:
    if step.stage == "encoding" and step.total:
        return f"Reindexing… encoding {step.done:,} of {step.total:,} new passages and sentences."
    return f"Reindexing… {step.stage}."


def usage_html(usage: Usage, stats: IndexStats) -> str:
    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:,.0f} ms"

    return (
        f"Questions: {usage.answered:,} answered, {usage.declined:,} declined\n"
        f"Feedback: {usage.thumbs_up:,} 👍, {usage.thumbs_down:,} 👎\n"
        f"Latency: p50 {ms(usage.p50_ms)}, p95 {ms(usage.p95_ms)}\n"
        f"Index: {stats.manifest.articles:,} articles, {stats.manifest.count:,} passages, "
        f"{stats.disk_bytes / 1e6:.1f} MB (built {escape(stats.manifest.created)})"
    )


# --------------------------------------------------------------------------- feeds


def _when(iso: str | None) -> str:
    return iso.replace("T", " ").removesuffix("+00:00") + " UTC" if iso else "never"


def feeds_html(states: Sequence[FeedState], limit: int = TELEGRAM_LIMIT) -> str:
    """Each followed feed with its last success and last error, as many as fit in `limit`."""
    if not states:
        return (
            "No feeds are followed. Add one with /addfeed <i>URL</i>, list them in "
            "NEWSDESK_FEEDS or in feeds.txt in the data folder."
        )
    head = f"<b>{len(states)} feed(s)</b>:"
    lines = []
    for state in states:
        name = escape(clip(state.title or state.url, _TITLE_UNITS))
        line = f"• {name} — {state.items:,} article(s); last success {_when(state.last_success)}"
        if state.last_error:
            error = escape(clip(state.last_error, _TITLE_UNITS))
            line += f"; last error {_when(state.last_error_at)}: {error}"
        if state.failures:
            line += f" ({state.failures} failure(s) in a row, next try {_when(state.next_attempt)})"
        if state.title:
            line += f"\n  {escape(clip(state.url, _TITLE_UNITS))}"
        lines.append(line)
    return f"{head}\n{fit_lines(lines, limit - visible_length(head) - 1)}"


def followed_html(count: int) -> str:
    """Feeds as everyone may see them: how many, not where (their addresses are for admins)."""
    return f"Following {count:,} news feed(s); new articles are added as they appear."
