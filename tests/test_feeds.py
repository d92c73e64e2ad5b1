"""Following feeds over loopback: the real White House rss.xml and archive documents served as
realistic pages, an Atom feed with a redirect, a malformed item and a stalling page, and a
feed that fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from embeddings import Engine, SentenceTransformerEncoder
from embeddings.feeds.fetch import FetchConfig
from embeddings.feeds.poller import (
    FeedListError,
    FeedPoller,
    add_feed,
    feed_list,
    refresh,
    remove_feed,
)
from embeddings.index.stores import open_store
from embeddings.ingest.articles import parse_file

from .feedsite import CHROME, Briefings, Document, Site, page_html
from .helpers import WANG_YI_QUESTION, WANG_YI_UN

pytestmark = pytest.mark.timeout(120)

# The test site is on 127.0.0.1, which only an opted-in fetcher may reach.
FAST = FetchConfig(timeout=0.5, retries=1, backoff=0.05, per_host=2, allow_private=True)


def feeds(site: Site) -> list[str]:
    return [f"{site.base}/rss.xml", f"{site.base}/atom.xml", f"{site.base}/broken.xml"]


def poller(tmp_path: Path, clock: dt.datetime | None = None) -> FeedPoller:
    now = clock or dt.datetime(2026, 8, 22, 12, 0, tzinfo=dt.UTC)
    return FeedPoller(tmp_path / "data", tmp_path / "feeds.sqlite", FAST, clock=lambda: now)


def saved(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "feeds").rglob("*.md"))


def words(paragraphs: list[str] | tuple[str, ...]) -> list[str]:
    return " ".join(paragraphs).split()


def test_a_poll_saves_each_article_body_without_the_page_chrome(
    site: Site, briefings: Briefings, tmp_path: Path
) -> None:
    report = poller(tmp_path).poll(feeds(site))
    assert len(report.new) == 5  # four briefings and the Atom article behind a redirect
    assert all(path.startswith("feeds/127-0-0-1-") for path in report.new)
    # feedparser takes the entry's id for its missing link: a URN, not a page to fetch.
    assert any("item 2: link 'urn:azernews:2' is not a web" in p for p in report.problems)
    assert any("/slow: timed out" in problem for problem in report.problems)
    broken = f"{site.base}/broken.xml"
    assert report.failed == [f"{broken}: HTTP 500 from {broken}"]
    assert site.user_agents == {FAST.user_agent}
    by_url = {}
    for path in saved(tmp_path):
        [article] = parse_file(path).articles
        by_url[article.url] = article
        text = " ".join(article.paragraphs)
        assert not [chrome for chrome in CHROME if chrome in text], path
    for url, document in briefings.documents.items():
        article = by_url[f"{site.base}/{url.split('.gov/')[1]}"]
        assert article.title == document.title
        assert article.date == document.date
        assert article.source == "Example Newsroom"
        # Every word of the article body, in order (the saved file reads back as extracted).
        assert words(article.paragraphs) == words(document.paragraphs)
    wang = by_url[f"{site.base}/news/wang-yi/"]  # saved under the URL the redirect led to
    assert WANG_YI_UN in wang.paragraphs
    front = (tmp_path / "data" / "feeds").glob("*/wang-yi.md")
    assert "author: AzerNews" in next(front).read_text()


def test_the_second_poll_gets_304s_and_saves_nothing(site: Site, tmp_path: Path) -> None:
    feed_poller = poller(tmp_path)
    feed_poller.poll(feeds(site))
    before = {p: p.stat().st_mtime_ns for p in saved(tmp_path)}
    site.clear_log()
    report = feed_poller.poll(feeds(site)[:2], respect_backoff=False)
    assert (report.new, report.changed) == ([], [])
    assert site.requests("/rss.xml") == [304]
    # The Atom feed had a failed article, so it is read again in full, and the stalled page
    # retried; its article that was saved is not fetched again (its <updated> is unchanged).
    assert site.requests("/atom.xml") == [200]
    assert site.requests("/news/wang-yi/") == []
    assert {p: p.stat().st_mtime_ns for p in saved(tmp_path)} == before


def test_a_changed_page_is_updated_in_place(
    site: Site, briefings: Briefings, tmp_path: Path
) -> None:
    feed_poller = poller(tmp_path)
    feed_poller.poll(feeds(site)[:1])
    rss = site.resources["/rss.xml"].body.decode()
    channel, items = rss.split("<item>", 1)
    first_link = items.split("<link>", 1)[1].split("</link>")[0].strip()
    [document] = [d for d in briefings.documents.values() if first_link.endswith(d.path)]
    edited = Document(
        document.path,
        document.title,
        document.date,
        [*document.paragraphs, "Correction: the event was moved to Columbia on Friday."],
    )
    site.put(document.path, page_html(edited))
    first_date = items.split("<pubDate>", 1)[1].split("</pubDate>")[0]  # the first item's
    items = items.replace(first_date, " Sat, 22 Aug 2026 09:00:00 -0400 ", 1)
    site.put("/rss.xml", f"{channel}<item>{items}")
    site.clear_log()
    report = feed_poller.poll(feeds(site)[:1])
    assert len(report.changed) == 1
    assert report.new == []
    assert site.requests(document.path) == [200]
    assert len(saved(tmp_path)) == len(briefings.documents)
    [article] = parse_file(tmp_path / "data" / report.changed[0]).articles
    assert article.paragraphs[-1] == "Correction: the event was moved to Columbia on Friday."


def test_the_same_story_under_a_new_address_is_not_saved_twice(
    site: Site, briefings: Briefings, tmp_path: Path
) -> None:
    feed_poller = poller(tmp_path)
    feed_poller.poll(feeds(site)[:1])
    document = next(iter(briefings.documents.values()))
    site.put("/mirror/story.html", page_html(document))
    item = f"<item><title>Again</title><link>{site.base}/mirror/story.html</link></item>"
    rss = site.resources["/rss.xml"].body.decode()
    site.put("/rss.xml", rss.replace("<item>", item + "<item>", 1))
    report = feed_poller.poll(feeds(site)[:1])
    assert (report.new, report.changed, report.duplicates) == ([], [], 1)


def test_a_failing_feed_backs_off_and_is_reported(site: Site, tmp_path: Path) -> None:
    broken = f"{site.base}/broken.xml"
    poller(tmp_path).poll([broken])
    assert site.requests("/broken.xml") == [500, 500]  # one retry after a 5xx
    later = poller(tmp_path, dt.datetime(2026, 8, 22, 12, 5, tzinfo=dt.UTC))
    report = later.poll([broken])
    assert report.deferred == [broken]
    [state] = later.status([broken])
    assert state.failures == 1
    assert state.last_success is None
    assert state.last_error == f"HTTP 500 from {broken}"
    assert state.next_attempt == "2026-08-22T12:15:00+00:00"
    assert later.poll([broken], respect_backoff=False).failed  # `newsdesk fetch` tries anyway


def test_the_feed_list_joins_settings_and_feeds_txt(tmp_path: Path) -> None:
    data = tmp_path / "data"
    configured = ["https://a.example/rss"]
    add_feed(data, " https://b.example/atom.xml ", configured)
    assert feed_list(data, configured) == ["https://a.example/rss", "https://b.example/atom.xml"]
    for bad, reason in [
        ("ftp://x/feed", "not a feed address"),
        ("https://b.example/atom.xml", "already followed"),
    ]:
        with pytest.raises(FeedListError, match=reason):
            add_feed(data, bad, configured)
    with pytest.raises(FeedListError, match="NEWSDESK_FEEDS"):
        remove_feed(data, "https://a.example/rss", configured)
    remove_feed(data, "https://b.example/atom.xml", configured)
    assert feed_list(data, configured) == configured


def test_fetched_articles_are_indexed_once_and_answer_questions(
    site: Site, encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    engine = Engine(open_store(tmp_path / "index"), encoder)
    feed_poller = poller(tmp_path)
    report, summary = refresh(engine, feed_poller, feeds(site)[:2])
    assert summary is not None
    assert (summary.new, summary.articles) == (5, 5)
    answer = engine.search(WANG_YI_QUESTION)
    assert answer.answered
    assert answer.results[0].answer_sentence == WANG_YI_UN
    assert answer.results[0].url == f"{site.base}/news/wang-yi/"
    report, summary = refresh(engine, feed_poller, feeds(site)[:2])
    assert summary is None
    assert not report.saved
    assert engine.build([tmp_path / "data"]).encoded == 0
