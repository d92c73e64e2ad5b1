"""/sources and /feeds stay within one Telegram message however many sources, feeds or
characters there are (the fake Bot API refuses longer messages, as Telegram does)."""

from __future__ import annotations

from bot.telegram.render import TELEGRAM_LIMIT, feeds_html, fit_lines, sources_html, visible_length
from embeddings import IndexStats
from embeddings.feeds.state import FeedState
from embeddings.index.manifest import Manifest


def stats(sources: int, title: str) -> IndexStats:
    manifest = Manifest(
        format_version=0, model="m", dimension=4, count=1, sentences=1, articles=sources,
        created="2026-01-01", sources=[], checksums={},
    )  # fmt: skip
    by_source = {f"Source {i} " + "𝕏" * (i % 300): 1 for i in range(sources)}
    return IndexStats(manifest, "g", by_source, "2020-01-01", "2026-01-01", title, 0)


def test_a_huge_title_and_four_hundred_sources_fit_one_message() -> None:
    text = sources_html(stats(400, "T" * 5000))
    assert visible_length(text) <= TELEGRAM_LIMIT
    assert "… and " in text
    assert " more" in text
    assert "T" * 201 not in text  # the title is clipped
    assert "Newest: <i>" + "T" * 199 + "…</i>" in text


def test_a_short_list_is_shown_whole() -> None:
    text = sources_html(stats(3, "A title"))
    assert "more" not in text
    assert text.count("• ") == 3


def test_four_hundred_failing_feeds_fit_one_message() -> None:
    states = [
        FeedState(f"https://feed{i}.example/" + "p" * 500, title="𝕋" * 3000, last_error="e" * 9000)
        for i in range(400)
    ]
    text = feeds_html(states, 2000)
    assert visible_length(text) <= 2000
    assert text.splitlines()[-1].startswith("… and ")


def test_fit_lines_counts_utf16_units() -> None:
    lines = ["😀" * 10] * 10  # 20 units and a newline each
    assert fit_lines(lines, 209) == "\n".join(lines)
    cut = fit_lines(lines, 100)
    assert visible_length(cut) <= 100
    assert cut.endswith("more")
