"""Following news feeds: poll, fetch new and changed articles, save them, index incrementally.

A poll requests every listed feed (conditionally: an unchanged feed costs a 304). For each entry
not seen before (by GUID, URL or content hash) the article page is fetched, its text extracted
(`embeddings.ingest.extract`) and saved as one Markdown file with YAML front matter under
`<data>/feeds/<host>/<slug>.md`. An entry seen before is fetched again (conditionally) only when
its feed gives it a new updated/published time or gives none; a page whose text changed is
rewritten in place. A feed that fails is recorded (last error) and not tried again until its
backoff has passed; the other feeds carry on. The index is then rebuilt incrementally, so only
the new and changed articles are encoded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from embeddings.engine import Engine
from embeddings.errors import NewsdeskError, ParseError
from embeddings.feeds.fetch import FetchConfig, Fetched, Fetcher, FetchError
from embeddings.feeds.parse import FeedDocument, FeedEntry, parse_feed
from embeddings.feeds.state import FeedState, FeedStore, ItemState
from embeddings.index.indexer import BuildSummary
from embeddings.ingest.articles import FEED_LIST_NAME, normalize_date
from embeddings.ingest.extract import ExtractedPage, extract_page

FEEDS_FOLDER = "feeds"
_FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_MAX_BACKOFF = dt.timedelta(hours=6)


class FeedListError(NewsdeskError):
    """A feed address that cannot be added or removed."""


@dataclass(slots=True)
class PollReport:
    feeds: int = 0
    new: list[str] = field(default_factory=list)  # saved files, relative to the data folder
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0  # a known story under a new URL or GUID
    deferred: list[str] = field(default_factory=list)  # feeds waiting out their backoff
    failed: list[str] = field(default_factory=list)  # "feed: reason"
    problems: list[str] = field(default_factory=list)  # entries skipped, "where: reason"

    @property
    def saved(self) -> bool:
        return bool(self.new or self.changed)


Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FeedPoller:
    """Polls feeds into `data_dir`, remembering what it has seen in `state_db`."""

    def __init__(
        self,
        data_dir: Path,
        state_db: Path,
        config: FetchConfig,
        backoff: dt.timedelta = dt.timedelta(minutes=15),
        clock: Clock = _utcnow,
    ) -> None:
        self.data_dir = data_dir
        self.state_db = state_db
        self.config = config
        self.backoff = backoff  # after the first failure; doubles with each one after
        self.clock = clock

    # ------------------------------------------------------------------ public

    def poll(self, feeds: Sequence[str], respect_backoff: bool = True) -> PollReport:
        """One pass over `feeds` (blocking: run it in a worker thread from async code)."""
        return asyncio.run(self._poll(feeds, respect_backoff))

    def status(self, feeds: Sequence[str]) -> list[FeedState]:
        store = FeedStore(self.state_db)
        try:
            return [store.feed(url) for url in feeds]
        finally:
            store.close()

    def check_feed(self, url: str) -> FeedDocument:
        """Fetch and parse `url` once without saving anything: FeedListError if not a feed."""

        async def fetch() -> Fetched:
            async with Fetcher(self.config) as fetcher:
                return await fetcher.get(url, accept=_FEED_ACCEPT)

        try:
            fetched = asyncio.run(fetch())
            assert fetched.content is not None  # no validators were sent, so no 304
            return parse_feed(fetched.content, fetched.url)
        except (FetchError, ParseError) as error:
            raise FeedListError(f"{url}: {error}") from None

    # ------------------------------------------------------------------ one pass

    async def _poll(self, feeds: Sequence[str], respect_backoff: bool) -> PollReport:
        report = PollReport(feeds=len(feeds))
        store = FeedStore(self.state_db)
        try:
            async with Fetcher(self.config) as fetcher:
                due = []
                for url in feeds:
                    waiting = store.feed(url).next_attempt
                    if respect_backoff and waiting and waiting > self._now():
                        report.deferred.append(url)
                    else:
                        due.append(url)
                await asyncio.gather(*(self._poll_feed(fetcher, store, u, report) for u in due))
        finally:
            store.close()
        return report

    async def _poll_feed(
        self, fetcher: Fetcher, store: FeedStore, url: str, report: PollReport
    ) -> None:
        state = store.feed(url)
        try:
            fetched = await fetcher.get(url, state.etag, state.last_modified, _FEED_ACCEPT)
            if fetched.not_modified:
                store.feed_fetched(url, self._now(), None, state.etag, state.last_modified)
                return
            assert fetched.content is not None
            document = await asyncio.to_thread(parse_feed, fetched.content, fetched.url)
        except (FetchError, ParseError) as error:
            failures = state.failures + 1
            delay = min(self.backoff * 2 ** (failures - 1), _MAX_BACKOFF)
            retry = (self.clock() + delay).isoformat(timespec="seconds")
            store.feed_failed(url, self._now(), str(error), retry)
            report.failed.append(f"{url}: {error}")
            return
        report.problems.extend(f"{url} {problem}" for problem in document.problems)
        entries = newest(document.entries, self.config.max_items)
        if len(entries) < len(document.entries):
            report.problems.append(
                f"{url} lists {len(document.entries):,} items; only the newest "
                f"{len(entries):,} were taken"
            )
        results = await asyncio.gather(
            *(self._take_entry(fetcher, store, url, entry, report) for entry in entries)
        )
        # An article that failed is retried at the next poll only if the feed is fetched again
        # in full: keep the old validators then, so the next poll cannot get a 304.
        complete = all(results)
        store.feed_fetched(
            url,
            self._now(),
            document.title or None,
            fetched.etag if complete else state.etag,
            fetched.last_modified if complete else state.last_modified,
        )
        if not complete:
            store.article_failed(url, self._now(), _first_error(report, url))

    async def _take_entry(
        self, fetcher: Fetcher, store: FeedStore, feed: str, entry: FeedEntry, report: PollReport
    ) -> bool:
        """Fetch, extract and save one entry if it is new or changed; False if it failed."""
        known = store.item(entry.guid, entry.url)
        stamp = entry.updated or entry.published
        if known and stamp and known.stamp == stamp:
            report.unchanged += 1
            if known.guid != entry.guid:  # the same URL under a new GUID: remember both
                store.save_item(_replace_item(known, guid=entry.guid, feed=feed))
            return True
        try:
            fetched = await fetcher.get(
                entry.url,
                known.etag if known else None,
                known.last_modified if known else None,
                _PAGE_ACCEPT,
            )
            if fetched.not_modified and known:
                report.unchanged += 1
                store.save_item(_replace_item(known, guid=entry.guid, stamp=stamp))
                return True
            assert fetched.content is not None
            markup = decode_html(fetched.content, fetched.content_type)
            page = await asyncio.to_thread(extract_page, markup, fetched.url)
            if not page.paragraphs:
                raise ParseError("no article text in the page")
        except (FetchError, ParseError) as error:
            report.problems.append(f"{entry.url}: {error}")
            return False
        # No await from here on: checking the seen-set and saving is one step in this loop.
        content_hash = _content_hash(page)
        now = self._now()
        if known is None:
            same = store.item_with_hash(content_hash)
            if same is not None:
                report.duplicates += 1
                store.save_item(
                    _replace_item(same, guid=entry.guid, feed=feed, url=entry.url, stamp=stamp)
                )
                return True
            relative = self._new_path(store, fetched.url)
        else:
            relative = known.path
            if known.content_hash == content_hash and (self.data_dir / relative).exists():
                report.unchanged += 1
                store.save_item(
                    _replace_item(
                        known,
                        guid=entry.guid,
                        stamp=stamp,
                        etag=fetched.etag,
                        last_modified=fetched.last_modified,
                    )
                )
                return True
        write_article_file(self.data_dir / relative, page, entry, fetched.url, feed, now)
        (report.changed if known else report.new).append(relative)
        store.save_item(
            ItemState(
                guid=entry.guid,
                feed=feed,
                url=entry.url,
                final_url=fetched.url,
                path=relative,
                content_hash=content_hash,
                stamp=stamp,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                fetched=now,
            )
        )
        return True

    def _new_path(self, store: FeedStore, url: str) -> str:
        """`feeds/<host>/<slug>.md`, numbered when another article already has that name."""
        parsed = urlparse(url)
        host = _SLUG_CHARS.sub("-", parsed.netloc.lower()).strip("-") or "unknown-host"
        parts = [p for p in parsed.path.split("/") if p]
        stem = re.sub(r"\.(s?html?|php|aspx?)$", "", parts[-1] if parts else "", flags=re.I)
        slug = _SLUG_CHARS.sub("-", stem.lower()).strip("-")[:80] or "index"
        for number in range(1, 1000):
            name = slug if number == 1 else f"{slug}-{number}"
            relative = f"{FEEDS_FOLDER}/{host}/{name}.md"
            if not (self.data_dir / relative).exists():
                return relative
        raise ParseError(f"too many articles named {slug} from {host}")  # pragma: no cover

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")


_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


def newest(entries: Sequence[FeedEntry], limit: int) -> list[FeedEntry]:
    """The `limit` newest entries by publication time (undated ones after, in feed order): a
    feed listing 100,000 items must not start 100,000 page requests in one poll."""
    ordered = sorted(entries, key=lambda e: e.published or e.updated or "", reverse=True)
    return ordered[:limit]


def _replace_item(item: ItemState, **changes: Any) -> ItemState:
    return dataclasses.replace(item, **changes)


def _first_error(report: PollReport, feed: str) -> str:
    return next((p for p in report.problems if not p.startswith(f"{feed} ")), "an article failed")


def _content_hash(page: ExtractedPage) -> str:
    text = "\n".join([page.title, *page.paragraphs])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def decode_html(content: bytes, content_type: str) -> str:
    """Bytes → text by the HTTP charset, else the page's <meta charset>, else UTF-8."""
    declared = re.search(r"charset=([\w-]+)", content_type, re.IGNORECASE)
    meta = _CHARSET.search(content[:4096])
    for name in (declared.group(1) if declared else None, meta and meta.group(1).decode()):
        if name:
            try:
                return content.decode(name, errors="replace")
            except LookupError:
                continue
    return content.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- the saved format


def article_markdown(
    page: ExtractedPage, entry: FeedEntry, url: str, feed: str, fetched: str
) -> str:
    """The saved article: YAML front matter, then the paragraphs as Markdown-escaped text."""
    meta = {
        "title": page.title or entry.title,
        "date": normalize_date(page.date) or normalize_date(entry.published),
        "author": page.author or entry.author,
        "source": page.site_name or urlparse(url).netloc,
        "url": page.url or url,
        "guid": entry.guid,
        "feed": feed,
        "fetched": fetched,
    }
    front = yaml.safe_dump(
        {k: v for k, v in meta.items() if v}, sort_keys=False, allow_unicode=True, width=1000
    )
    body = "\n\n".join(escape_markdown(p) for p in page.paragraphs)
    return f"---\n{front}---\n\n{body}\n"


_LINE_START = re.compile(r"^(\s*)([#>+\-*]|\d{1,3}(?=[.)]))")
_INLINE = re.compile(r"[\\`*_\[\]]")


def escape_markdown(text: str) -> str:
    """Plain text that `markdown_to_paragraphs` reads back unchanged.

    Markup characters become HTML character references, which that reader decodes last: a
    backslash escape would not do, as its emphasis rules pair up escaped stars too."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = _INLINE.sub(lambda m: f"&#{ord(m.group())};", text)
    return _LINE_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), text)


def write_article_file(
    target: Path, page: ExtractedPage, entry: FeedEntry, url: str, feed: str, fetched: str
) -> None:
    """Write via a hidden temporary file (never indexed) and an atomic rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(article_markdown(page, entry, url, feed, fetched), encoding="utf-8")
    os.replace(temporary, target)


# --------------------------------------------------------------------------- the feed list


def check_feed_url(url: str) -> str:
    """`url` trimmed, or FeedListError when it is not an http(s) address."""
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in url:
        raise FeedListError(f"{url!r} is not a feed address (http:// or https://)")
    return url


def read_feed_file(data_dir: Path) -> list[str]:
    """The feeds in `<data>/feeds.txt`: one URL a line; blank lines and `#` comments ignored."""
    path = data_dir / FEED_LIST_NAME
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line]


def feed_list(data_dir: Path, configured: Sequence[str]) -> list[str]:
    """NEWSDESK_FEEDS then feeds.txt, each address once."""
    return list(dict.fromkeys([*configured, *read_feed_file(data_dir)]))


def add_feed(data_dir: Path, url: str, configured: Sequence[str]) -> str:
    url = check_feed_url(url)
    if url in feed_list(data_dir, configured):
        raise FeedListError(f"{url} is already followed")
    path = data_dir / FEED_LIST_NAME
    data_dir.mkdir(parents=True, exist_ok=True)
    existing = path.read_text("utf-8") if path.exists() else ""
    separator = "" if not existing or existing.endswith("\n") else "\n"
    path.write_text(f"{existing}{separator}{url}\n", encoding="utf-8")
    return url


def remove_feed(data_dir: Path, url: str, configured: Sequence[str]) -> str:
    """Drop `url` from feeds.txt (its saved articles stay in the archive)."""
    url = url.strip()
    if url in configured:
        raise FeedListError(f"{url} is set in NEWSDESK_FEEDS; remove it there")
    if url not in read_feed_file(data_dir):
        raise FeedListError(f"{url} is not followed")
    path = data_dir / FEED_LIST_NAME
    kept = [line for line in path.read_text("utf-8").splitlines() if line.strip() != url]
    path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
    return url


# --------------------------------------------------------------------------- poll + index


def refresh(
    engine: Engine, poller: FeedPoller, feeds: Sequence[str], respect_backoff: bool = True
) -> tuple[PollReport, BuildSummary | None]:
    """One poll, then an incremental build when an article was saved (blocking)."""
    report = poller.poll(feeds, respect_backoff)
    summary = engine.build([poller.data_dir]) if report.saved else None
    return report, summary
