"""A saved news web page → title, date, canonical URL and body paragraphs (stdlib only).

Reads the standard metadata (Open Graph, `article:published_time`, `<time>`, canonical link)
and takes the body from `<article>` (else `<main>`, else `<body>`), leaving out navigation,
headers, footers, asides, scripts and forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "nav", "header", "footer", "aside", "form", "noscript",
                   "svg", "button", "template", "iframe", "select"})  # fmt: skip
_BLOCKS = frozenset({"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                     "td", "th", "tr", "section", "article", "main", "figcaption", "dd", "dt",
                     "br", "hr", "ul", "ol", "table", "body"})  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "source", "wbr"})
_DATE_KEYS = ("article:published_time", "date", "datepublished", "dc.date", "pubdate",
              "og:published_time", "sailthru.date")  # fmt: skip


@dataclass
class Page:
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    date: str | None = None
    url: str | None = None
    site_name: str | None = None


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.time_datetime: str | None = None
        self.title_parts: list[str] = []
        self.h1: str | None = None
        self.in_title = False
        self.skip_depth = 0
        self.region_depth = {"article": 0, "main": 0}
        self.buffer: list[str] = []
        self.buffer_tag = ""
        self.blocks: list[tuple[str, str, frozenset[str]]] = []  # (tag, text, regions)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name") or values.get("itemprop") or ""
            if key and "content" in values:
                self.meta.setdefault(key.lower(), values["content"].strip())
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = values.get("href") or None
        elif tag == "time" and self.time_datetime is None and values.get("datetime"):
            self.time_datetime = values["datetime"]
        elif tag == "title":
            self.in_title = True
        if tag in _VOID:
            if tag in _BLOCKS:
                self._flush()
            return
        if tag in _SKIP:
            self.skip_depth += 1
        if tag in self.region_depth:
            self.region_depth[tag] += 1
        if tag in _BLOCKS:
            self._flush()
            self.buffer_tag = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _BLOCKS:
            self._flush()
        if tag in _SKIP and self.skip_depth:
            self.skip_depth -= 1
        if self.region_depth.get(tag):
            self.region_depth[tag] -= 1

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
        elif not self.skip_depth:
            self.buffer.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        if not text:
            return
        regions = frozenset(name for name, depth in self.region_depth.items() if depth)
        if self.buffer_tag == "h1" and self.h1 is None:
            self.h1 = text
            return
        self.blocks.append((self.buffer_tag, text, regions))


def html_to_article(markup: str) -> Page:
    parser = _PageParser()
    parser.feed(markup)
    parser.close()
    parser._flush()
    meta = parser.meta
    blocks = parser.blocks
    for region in ("article", "main"):
        inside = [b for b in blocks if region in b[2]]
        if inside:
            blocks = inside
            break
    title = meta.get("og:title") or parser.h1 or " ".join("".join(parser.title_parts).split())
    date = next((meta[key] for key in _DATE_KEYS if meta.get(key)), None) or parser.time_datetime
    return Page(
        title=title,
        paragraphs=[text for _, text, _ in blocks],
        date=date,
        url=parser.canonical or meta.get("og:url") or None,
        site_name=meta.get("og:site_name") or None,
    )
