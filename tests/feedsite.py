"""A news site on 127.0.0.1 for the feed tests: the real White House rss.xml (rewritten to point
here) and article pages rendered from the archive's own documents as realistic HTML.

Pages carry navigation, a cookie banner, a related-links box, a footer and scripts around the
article, so the tests can tell the body from the chrome. The server speaks ETag and
Last-Modified (304s), redirects, stalls on request and logs every request it answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import http.server
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from embeddings.ingest.articles import parse_plain_text
from embeddings.ingest.markdown_text import markdown_to_paragraphs

DATA = Path(__file__).resolve().parents[1] / "data"
# The feed as scraped by brian14708/wh-briefings and its four newest documents (fixtures/README.md).
BRIEFINGS = Path(__file__).resolve().parent / "fixtures" / "wh-briefings"
ORIGIN = "https://www.whitehouse.gov/"
ITEMS = 4  # the feed's newest items are served, with their documents as pages

# Chrome: none of these strings may reach an extracted article.
NAV = ["Newsroom Home", "Photo Galleries", "Get Involved", "Contact Us", "Site Search"]
COOKIE = "We use cookies to improve your experience. Accept all cookies to continue browsing."
RELATED_TITLE = "Related Stories"
RELATED = [
    "Readout of the Vice President's Call with the Governor of Maine",
    "Statement on the Anniversary of the Americans with Disabilities Act",
]
FOOTER = "Copyright 2026 Example Newsroom. All rights reserved. Privacy Policy | Terms of Use"
SCRIPT = "window.analyticsQueue.push('pageview')"
CHROME = [*NAV, COOKIE, RELATED_TITLE, *RELATED, FOOTER, SCRIPT, "Subscribe to our newsletter"]


@dataclass
class Document:
    """One archive document: front matter and the paragraphs that are its article text."""

    path: str  # the page's path on the test site
    title: str
    date: str
    paragraphs: list[str]


@dataclass
class Briefings:
    rss: str  # rss.xml as shipped
    documents: dict[str, Document]  # by original source_url


def load_briefings() -> Briefings:
    """rss.xml and the documents of its newest items, as shipped in tests/fixtures."""
    rss = (BRIEFINGS / "rss.xml").read_text(encoding="utf-8")
    links = re.findall(r"<link>\s*(\S+)\s*</link>", rss.split("<item>", 1)[1])[:ITEMS]
    documents: dict[str, Document] = {}
    for markdown in sorted(BRIEFINGS.rglob("*.md")):
        meta_text, body = markdown.read_text(encoding="utf-8").split("\n---", 1)
        meta = yaml.safe_load(meta_text.removeprefix("---"))
        url = str(meta.get("source_url", ""))
        if url in links:
            paragraphs, _ = markdown_to_paragraphs(body.split("\n", 1)[1])
            path = "/" + url.removeprefix(ORIGIN)
            documents[url] = Document(path, str(meta["title"]), str(meta["date"]), paragraphs)
    assert len(documents) == ITEMS, sorted(documents)
    return Briefings(rss, documents)


def page_html(document: Document, author: str = "Press Office") -> str:
    """The article as a newsroom would publish it, chrome and all."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in document.paragraphs)
    nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}/">{n}</a></li>' for n in NAV)
    related = "".join(
        f'<li><a href="/r{i}/">{html.escape(t)}</a></li>' for i, t in enumerate(RELATED)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(document.title)} – Example Newsroom</title>
<meta name="author" content="{author}">
<meta property="article:published_time" content="{document.date}T12:00:00-04:00">
<meta property="og:site_name" content="Example Newsroom">
<script>{SCRIPT}; var tracking = {{"id": 123}};</script>
<style>.cookie-banner {{ position: fixed; }}</style>
</head><body>
<div class="cookie-banner" id="cookie-consent"><p>{COOKIE}</p>
<button>Accept</button></div>
<header class="site-header"><a class="logo" href="/">Example Newsroom</a>
<nav class="main-nav"><ul>{nav}</ul></nav></header>
<main id="main-content">
<article class="post">
<h1 class="entry-title">{html.escape(document.title)}</h1>
<div class="byline">By {author} · <time datetime="{document.date}">{document.date}</time></div>
<div class="entry-content">
{body}
</div>
</article>
<aside class="related"><h2>{RELATED_TITLE}</h2><ul>{related}</ul></aside>
</main>
<div class="newsletter"><p>Subscribe to our newsletter</p><form><input type="email"></form></div>
<footer class="site-footer"><p>{FOOTER}</p></footer>
<script src="/assets/app.js"></script><script>{SCRIPT}</script>
</body></html>
"""


@dataclass
class Resource:
    body: bytes
    content_type: str
    etag: str = ""
    stall: float = 0.0  # seconds to wait before answering (longer than the client's timeout)
    redirect: str | None = None
    status: int = 200

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Site:
    """What the server serves, changeable while it runs; and what it was asked."""

    base: str = ""
    resources: dict[str, Resource] = field(default_factory=dict)
    log: list[tuple[str, int]] = field(default_factory=list)  # (path, status) per request
    user_agents: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        with self.lock:
            self.resources[path] = Resource(body.encode("utf-8"), content_type)

    def requests(self, path: str) -> list[int]:
        with self.lock:
            return [status for p, status in self.log if p == path]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()


def serve(site: Site) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with site.lock:
                resource = site.resources.get(self.path)
                site.user_agents.add(self.headers.get("User-Agent", ""))
            if resource is not None and resource.stall:
                time.sleep(resource.stall)
            status = self._answer(resource)
            with site.lock:
                site.log.append((self.path, status))

        def _answer(self, resource: Resource | None) -> int:
            if resource is None:
                self.send_error(404)
                return 404
            if resource.redirect:
                self.send_response(301)
                self.send_header("Location", resource.redirect)
                self.end_headers()
                return 301
            if resource.status != 200:
                self.send_error(resource.status)
                return resource.status
            if self.headers.get("If-None-Match") == resource.etag:
                self.send_response(304)
                self.send_header("ETag", resource.etag)
                self.end_headers()
                return 304
            self.send_response(200)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            self.send_header("ETag", resource.etag)
            self.end_headers()
            # The client may have given up already (a timeout).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(resource.body)
            return 200

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads `site.log`; stderr stays quiet

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def rewrite_rss(rss: str, base: str, keep: int = ITEMS) -> str:
    """The shipped rss.xml pointing at the test site, with only its newest `keep` items."""
    head, *items = rss.split("<item>")
    tail = items[-1].split("</item>", 1)[1] if items else ""
    kept = ["<item>" + item.split("</item>", 1)[0] + "</item>" for item in items[:keep]]
    return (head + "".join(kept) + tail).replace(ORIGIN, f"{base}/")


def wang_yi() -> Document:
    article = parse_plain_text((DATA / "000_ce1b1adc1bd8e6a9.txt").read_text(), "wang-yi")
    return Document("/news/wang-yi/", article.title, "2023-02-22", list(article.paragraphs))


def atom(base: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>AzerNews</title><id>urn:azernews</id>
<updated>2023-02-22T18:00:00Z</updated>
<entry><title>Wang Yi meets Patrushev</title><id>urn:azernews:1</id>
<link href="{base}/go/wang-yi"/><updated>2023-02-22T18:00:00Z</updated></entry>
<entry><title>An item with no link</title><id>urn:azernews:2</id>
<updated>2023-02-22T17:00:00Z</updated></entry>
<entry><title>A page that never answers</title><id>urn:azernews:3</id>
<link href="{base}/slow"/><updated>2023-02-22T16:00:00Z</updated></entry>
</feed>"""
