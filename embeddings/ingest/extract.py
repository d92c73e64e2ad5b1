"""A web page → the article in it: title, date, author, canonical URL and body paragraphs.

The only module that imports trafilatura (a maintained boilerplate remover: navigation, footers,
cookie banners, related-link boxes and scripts are left out). Fetched feed articles, HTML files
dropped into the data folder and uploaded pages all go through `extract_page`. When trafilatura
finds no article (a tiny page, a bare fragment), the stdlib reader in `html_text` is the
fallback, so a page that used to index still does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from embeddings.errors import MissingDependencyError
from embeddings.ingest.html_text import html_to_article
from embeddings.ingest.links import page_url

# trafilatura writes list items as "- item"; the bullet is layout, not text.
_BULLET = re.compile(r"^\s*[-*•]\s+")


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    title: str
    paragraphs: tuple[str, ...]
    date: str | None = None
    author: str | None = None
    url: str | None = None
    site_name: str | None = None


@cache
def _trafilatura() -> ModuleType:
    # Imported on first use: it costs a tenth of a second that `newsdesk ask` need not pay.
    try:
        import trafilatura
    except ImportError as error:  # pragma: no cover - exercised only on a broken install
        raise MissingDependencyError(
            f"trafilatura is not installed ({error}); pip install trafilatura lxml-html-clean"
        ) from None
    return trafilatura


def extract_page(markup: str, url: str | None = None) -> ExtractedPage:
    """The article in `markup`; `url` is where it was fetched from (None for a local file).
    The page's own claim to an address (canonical link, og:url) is cited only when it is an
    http(s) link on the host the page came from (embeddings.ingest.links).

    Returns an ExtractedPage with no paragraphs when the page holds no readable text."""
    # The stdlib reader still supplies what trafilatura leaves out (og:site_name, a canonical
    # link that trafilatura ignores when given `url`) and the fallback body.
    plain = html_to_article(markup)
    document = None
    if markup.strip():
        document = _trafilatura().bare_extraction(
            markup,
            url=url,
            with_metadata=True,
            # Without it, a short article falls back to whole-page extraction and keeps the
            # navigation and header lines (measured in benchmarks/extraction.py).
            favor_precision=True,
            include_comments=False,  # reader comments are not the article
            include_tables=True,
            include_images=False,
            include_links=False,
            deduplicate=False,
        )
    if document is None or not (document.text or "").strip():
        return ExtractedPage(
            title=plain.title,
            paragraphs=tuple(plain.paragraphs),
            date=plain.date,
            author=None,
            url=page_url(plain.url, url),
            site_name=plain.site_name,
        )
    title = (document.title or plain.title or "").strip()
    paragraphs = [_BULLET.sub("", line).strip() for line in document.text.splitlines()]
    paragraphs = [p for p in paragraphs if p]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # the headline repeated as the first line of the body
    return ExtractedPage(
        title=title,
        paragraphs=tuple(paragraphs),
        date=document.date or plain.date,
        author=(document.author or "").strip() or None,
        url=page_url(plain.url or document.url, url),
        site_name=plain.site_name or document.sitename or None,
    )
