"""RSS and Atom documents → entries (link, GUID, title, dates, author).

The only module that imports feedparser. feedparser reads RSS 0.9x/1.0/2.0 and Atom and
tolerates the broken markup feeds often have; an entry without a usable link is reported as a
problem and skipped, the rest of the feed still counts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urljoin, urlparse

from embeddings.errors import MissingDependencyError, ParseError


@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    guid: str  # the entry's id, or its link when the feed gives none
    title: str = ""
    published: str | None = None  # ISO 8601 timestamp
    updated: str | None = None  # ISO 8601 timestamp; changes when the publisher edits
    author: str | None = None


@dataclass(slots=True)
class FeedDocument:
    title: str = ""
    entries: list[FeedEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _feedparser() -> ModuleType:
    try:
        import feedparser
    except ImportError as error:  # pragma: no cover - exercised only on a broken install
        raise MissingDependencyError(
            f"feedparser is not installed ({error}); pip install feedparser"
        ) from None
    module: ModuleType = feedparser
    return module


def parse_feed(content: bytes, url: str) -> FeedDocument:
    """Entries of the feed fetched from `url` (relative links resolved against it).

    Raises ParseError when `content` is not a feed at all (an HTML page, an error document)."""
    parsed: Any = _feedparser().parse(content, response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ParseError(f"not an RSS or Atom feed{f' ({reason})' if reason else ''}")
    feed = FeedDocument(title=_text(parsed.feed.get("title")))
    for number, entry in enumerate(parsed.entries, start=1):
        link = _text(entry.get("link"))
        if not link:
            feed.problems.append(f"item {number}: no link")
            continue
        link = urljoin(url, link)
        if urlparse(link).scheme not in ("http", "https"):
            feed.problems.append(f"item {number}: link {link!r} is not a web address")
            continue
        feed.entries.append(
            FeedEntry(
                url=link,
                guid=_text(entry.get("id")) or link,
                title=_text(entry.get("title")),
                published=_timestamp(entry.get("published_parsed")),
                # Read past FeedParserDict's lookup, which maps a missing `updated` to
                # `published` with a deprecation warning.
                updated=_timestamp(dict.get(entry, "updated_parsed")),
                author=_text(entry.get("author")) or None,
            )
        )
    return feed


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


def _timestamp(value: Any) -> str | None:
    if not isinstance(value, time.struct_time):
        return None
    return dt.datetime(*value[:6], tzinfo=dt.UTC).isoformat()
