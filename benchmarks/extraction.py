"""Extraction quality on the feed tests' pages: how much of the article text is kept, how much
page chrome leaks in.

Each page is an archive document (the newest White House briefings listed in rss.xml, plus the
AzerNews article) rendered with navigation, a cookie banner, a related-links box, a newsletter
form, a footer and scripts (tests/feedsite.py). Kept = share of the article's words recovered,
in order (longest common subsequence of word sequences); leaked = chrome strings found in the
extracted text, and extracted words that are not article words.

    python -m benchmarks.extraction
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time

from embeddings.ingest.extract import extract_page
from embeddings.ingest.html_text import html_to_article
from tests.feedsite import CHROME, Document, load_briefings, page_html, wang_yi


def measure(truth: list[str], got: list[str]) -> tuple[float, float, list[str]]:
    expected, extracted = " ".join(truth).split(), " ".join(got).split()
    matcher = difflib.SequenceMatcher(None, expected, extracted, autojunk=False)
    common = sum(block.size for block in matcher.get_matching_blocks())
    kept = common / len(expected)
    extra = (len(extracted) - common) / max(len(extracted), 1)
    leaked = [c for c in CHROME if c in " ".join(got)]
    return kept, extra, leaked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    started = time.perf_counter()
    briefings = load_briefings()
    print(f"loaded {len(briefings.documents)} briefings in {time.perf_counter() - started:.1f} s")
    documents: list[Document] = [*briefings.documents.values(), wang_yi()]
    print(f"{'page':<48}{'words':>7}  {'kept':>7} {'extra':>7}  {'stdlib kept':>11} {'extra':>7}")
    totals = {"trafilatura": [0.0, 0.0], "stdlib": [0.0, 0.0]}
    leaks: dict[str, list[str]] = {"trafilatura": [], "stdlib": []}
    elapsed = 0.0
    for document in documents:
        markup = page_html(document)
        started = time.perf_counter()
        page = extract_page(markup, "http://127.0.0.1" + document.path)
        elapsed += time.perf_counter() - started
        kept, extra, leaked = measure(document.paragraphs, list(page.paragraphs))
        plain = html_to_article(markup)
        s_kept, s_extra, s_leaked = measure(document.paragraphs, plain.paragraphs)
        totals["trafilatura"][0] += kept
        totals["trafilatura"][1] += extra
        totals["stdlib"][0] += s_kept
        totals["stdlib"][1] += s_extra
        leaks["trafilatura"] += leaked
        leaks["stdlib"] += s_leaked
        words = len(" ".join(document.paragraphs).split())
        print(
            f"{document.path[-47:]:<48}{words:>7}  {kept:>7.1%} {extra:>7.1%}  "
            f"{s_kept:>11.1%} {s_extra:>7.1%}"
        )
    count = len(documents)
    for name, (kept, extra) in totals.items():
        print(
            f"{name:<12} mean kept {kept / count:.1%}, mean extra words {extra / count:.1%}, "
            f"chrome strings leaked: {len(leaks[name])} {sorted(set(leaks[name]))}"
        )
    print(f"trafilatura extraction: {elapsed / count * 1000:.0f} ms per page on average")
    return 0


if __name__ == "__main__":
    sys.exit(main())
