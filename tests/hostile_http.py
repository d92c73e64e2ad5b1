"""Hostile web servers on loopback for the fetch tests and benchmarks.hostile.net.

A `HostileSite` answers each path with a behaviour: a page, a redirect, a body trickled one
byte at a time, a page that stalls (to count concurrent requests), a feed of many items. It
records every request with its Host header and the local address it arrived on, so a test can
tell what the fetcher reached and how.

Everything runs on 127.0.0.0/8, which the fetcher refuses unless told otherwise; the
`treat_as_public` and `resolving` context managers let a test declare one loopback address
"public" and point made-up host names at chosen addresses, so the refusal of the others (an
internal service on 127.0.0.2, a name that rebinds to it) can be shown without the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from embeddings.feeds import addresses

Behaviour = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    host: str  # the Host header
    local: str  # the server address the connection arrived on


@dataclass
class HostileSite:
    address: str = "127.0.0.1"
    routes: dict[str, Behaviour] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0  # most requests in flight at once
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://{self.address}:{self.port}"

    def __enter__(self) -> HostileSite:
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                route = self.path.split("?", 1)[0]
                with site.lock:
                    site.seen.append(
                        Seen(
                            self.path,
                            self.headers.get("Host", ""),
                            self.connection.getsockname()[0],
                        )
                    )
                    site.in_flight += 1
                    site.peak = max(site.peak, site.in_flight)
                try:
                    behaviour = site.routes.get(route)
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        if behaviour is None:
                            page(b"not here", status=404)(self)
                        else:
                            behaviour(self)
                finally:
                    with site.lock:
                        site.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((self.address, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def requests(self) -> list[str]:
        with self.lock:
            return [s.path for s in self.seen]


def page(
    body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200
) -> Behaviour:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def article(title: str, words: int = 60) -> Behaviour:
    text = " ".join(f"{title} word{i}." for i in range(words))
    return page(f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                f"<p>{text}</p></article></body></html>".encode())  # fmt: skip


def redirect(location: str) -> Behaviour:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def trickle(size: int, every: float) -> Behaviour:
    """Declares `size` bytes and sends one every `every` seconds: each read is quick, the
    whole body takes size × every seconds."""

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        for _ in range(size):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(every)

    return answer


def stall(seconds: float, then: Behaviour) -> Behaviour:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        then(handler)

    return answer


def rss(base: str, items: int, path: str = "/p") -> bytes:
    """A feed of `items` items, item i published i hours before 2026-01-01 (so item 0 is the
    newest), listed oldest first; each links to `{base}{path}/{i}`."""
    entries = []
    for i in reversed(range(items)):
        day, hour = divmod(i, 24)
        when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1767225600 - 3600 * i))
        entries.append(
            f"<item><title>Item {i} ({day}d {hour}h old)</title><link>{base}{path}/{i}</link>"
            f"<guid>item-{i}</guid><pubDate>{when}</pubDate></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>'
        f"<link>{base}/</link>{''.join(entries)}</channel></rss>"
    ).encode()


@contextlib.contextmanager
def treat_as_public(*public: str) -> Iterator[None]:
    """The fetcher's address check, except that these loopback addresses count as public."""
    allowed = {ipaddress.ip_address(a) for a in public}
    original = addresses.refusal

    def refusal(address: addresses.Address) -> str | None:
        return None if address in allowed else original(address)

    addresses.refusal = refusal
    try:
        yield
    finally:
        addresses.refusal = original


@contextlib.contextmanager
def resolving(names: dict[str, list[str]]) -> Iterator[list[str]]:
    """Made-up host names resolve to the next address in their list (the last one repeats):
    a list [public, private] is a name that rebinds after its first look-up. Yields the
    names looked up, in order."""
    original = asyncio.base_events.BaseEventLoop.getaddrinfo
    looked_up: list[str] = []

    async def getaddrinfo(self: Any, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in names:
            looked_up.append(host)
            answers = names[host]
            address = answers[min(looked_up.count(host), len(answers)) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return await original(self, host, port, *args, **kwargs)

    asyncio.base_events.BaseEventLoop.getaddrinfo = getaddrinfo  # type: ignore[method-assign]
    try:
        yield looked_up
    finally:
        asyncio.base_events.BaseEventLoop.getaddrinfo = original  # type: ignore[method-assign]
