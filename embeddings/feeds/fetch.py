"""Polite HTTP for feeds and article pages: conditional requests, limits, retries.

Every request names newsdesk in its User-Agent, has a timeout for each read and a deadline for
the whole exchange (a server dribbling one byte a second is cut at the deadline), stops reading
a body past a size limit, reaches public addresses only (`embeddings.feeds.addresses`), sends
the ETag / Last-Modified it saw last time (so an unchanged resource costs a 304 and no body),
and holds one of a few slots per host name (whatever port or user name the URL gives) so a
poll never hammers one site.
Timeouts, connection errors, 429 and 5xx are retried with exponential backoff; anything else
fails at once with a FetchError that says what happened.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from embeddings.errors import NewsdeskError

# httpx, and the address checks built on it, are imported where a fetch happens: `newsdesk ask`
# and the other commands that never fetch import this module (for FetchConfig) but should not
# pay a tenth of a second for httpx.
if TYPE_CHECKING:
    import httpx

USER_AGENT = "newsdesk/0.1 (news archive indexer; polls feeds on an interval)"
_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


class FetchError(NewsdeskError):
    """A feed or page could not be fetched (after retries, where retrying made sense)."""


@dataclass(frozen=True, slots=True)
class FetchConfig:
    user_agent: str = USER_AGENT
    timeout: float = 20.0  # seconds, for connecting and for each read
    max_bytes: int = 5_000_000  # a body past this is abandoned, not truncated
    per_host: int = 2  # requests in flight to one host at a time
    retries: int = 2  # further attempts after a transient failure
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    deadline: float = 60.0  # seconds for one whole request, however slowly the body trickles
    max_items: int = 100  # a feed's newest items fetched per poll; older ones are skipped
    # Loopback, private, link-local and other non-public addresses are refused unless this is
    # set (for tests on 127.0.0.1 and for feeds on an intranet).
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: `content` is None for 304 Not Modified."""

    url: str  # after redirects
    status: int
    content: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Transient(Exception):
    """A failure worth another try."""


class Fetcher:
    """One HTTP client for a poll; use as `async with Fetcher(config) as fetcher:`."""

    def __init__(self, config: FetchConfig) -> None:
        import httpx

        from embeddings.feeds.addresses import public_only_transport

        self.config = config
        self._slots: dict[str, asyncio.Semaphore] = collections.defaultdict(
            lambda: asyncio.Semaphore(config.per_host)
        )
        # With the checking transport, proxies from the environment are not used either (httpx
        # reads them only without an explicit transport): the address checked is the one reached.
        self._client = httpx.AsyncClient(
            transport=None if config.allow_private else public_only_transport(),
            headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(config.timeout),
            follow_redirects=True,
            max_redirects=5,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def get(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> Fetched:
        """GET `url` conditionally; FetchError when it cannot be had."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = self._checked_host(url)
        delay = self.config.backoff
        for attempt in range(self.config.retries + 1):
            try:
                async with self._slots[host]:
                    return await self._get_within_deadline(url, headers)
            except _Transient as error:
                if attempt == self.config.retries:
                    raise FetchError(str(error)) from None
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _checked_host(self, url: str) -> str:
        """The URL's host name (the key of its slots); FetchError for a URL never to be fetched."""
        from embeddings.feeds.addresses import literal_refusal

        parsed = urlparse(url)
        host = (parsed.hostname or "").lower()
        if parsed.scheme not in ("http", "https") or not host:
            raise FetchError(f"not a usable address: {url}")
        reason = None if self.config.allow_private else literal_refusal(host)
        if reason:
            raise FetchError(f"refused {url}: {reason}")
        return host

    async def _get_within_deadline(self, url: str, headers: dict[str, str]) -> Fetched:
        """One attempt, cut at the deadline; not retried, as a server that trickles would only
        trickle again."""
        try:
            async with asyncio.timeout(self.config.deadline):
                return await self._get_once(url, headers)
        except TimeoutError:
            raise FetchError(f"cut at the {self.config.deadline:g} s deadline: {url}") from None

    async def _get_once(self, url: str, headers: dict[str, str]) -> Fetched:
        import httpx

        from embeddings.feeds.addresses import PrivateAddressError

        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code in _RETRIED_STATUS:
                    raise _Transient(f"HTTP {response.status_code} from {url}")
                if response.status_code not in (200, 304):
                    raise FetchError(f"HTTP {response.status_code} from {url}")
                content = None
                if response.status_code == 200:
                    content = await self._read_limited(response, url)
                return Fetched(
                    url=str(response.url),
                    status=response.status_code,
                    content=content,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    content_type=response.headers.get("content-type", ""),
                )
        except PrivateAddressError as error:
            raise FetchError(f"refused {url}: {error}") from None
        except httpx.TimeoutException:
            raise _Transient(f"timed out after {self.config.timeout:g} s: {url}") from None
        except httpx.TooManyRedirects:
            raise FetchError(f"too many redirects: {url}") from None
        except httpx.InvalidURL as error:
            raise FetchError(f"not a usable address: {url} ({error})") from None
        except httpx.TransportError as error:
            raise _Transient(f"cannot connect to {url} ({type(error).__name__})") from None

    async def _read_limited(self, response: httpx.Response, url: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.config.max_bytes:
            raise FetchError(f"{url} is {int(declared):,} bytes; the limit is {self._limit()}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.config.max_bytes:
                # Stop reading: a runaway or hostile body must not fill memory.
                raise FetchError(f"{url} is larger than {self._limit()}")
            chunks.append(chunk)
        return b"".join(chunks)

    def _limit(self) -> str:
        return f"{self.config.max_bytes:,} bytes"
