"""Which links an article may cite: only http(s) addresses, and a page's own claim to live
elsewhere (a canonical link or og:url on another host) is not believed.

A citation link is shown to every reader as "link": a `javascript:` or `data:` URL, or a
page that names a stranger's site as its canonical address, must not become one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

_SCHEMES = ("http", "https")


def web_url(value: Any) -> str | None:
    """`value` as an absolute http(s) URL with a host, or None (any other scheme, no host,
    spaces or control characters inside, not a string)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed port or IPv6 literal
        return None
    return url if parts.scheme.lower() in _SCHEMES and host else None


def page_url(claimed: str | None, fetched: str | None) -> str | None:
    """The link to cite for a page fetched from `fetched` (None for a local file) that names
    `claimed` as its address: the claim (made absolute) when it is on the same host, else the
    address it was fetched from."""
    own = web_url(fetched)
    if claimed is None:
        return own
    absolute = web_url(urljoin(own, claimed.strip()) if own else claimed)
    if absolute is None:
        return own
    if own is None or _host(absolute) == _host(own):
        return absolute
    return own


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
