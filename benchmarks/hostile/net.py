"""Network attacks on `newsdesk fetch` and `newsdesk serve`, replayed on loopback.

`attacks()` lists (name, replay) pairs; each replay runs the real code (the feed poller and
fetcher, the webhook listener, the CLI's `serve` start-up) against a hostile server on
127.0.0.0/8 and returns a short outcome. 127.0.0.1 stands for a public site where an attack
needs one; 127.0.0.2 for the internal network (tests.hostile_http explains how).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.cli.commands import main
from bot.redact import spellings
from bot.telegram.webhook import SECRET_HEADER, WebhookServer
from embeddings.feeds.fetch import FetchConfig, Fetcher, FetchError
from embeddings.feeds.poller import FeedPoller, PollReport
from tests.hostile_http import (
    HostileSite,
    article,
    page,
    redirect,
    resolving,
    rss,
    stall,
    treat_as_public,
    trickle,
)
from tests.test_token_redaction import bot_api

TOKEN = "7234567890:AAHfQ3kZ9x_Lr2-mWq8TnVb4YcUe6PdOsJg"
QUICK = FetchConfig(timeout=3.0, retries=0)
DEADLINE = 5.0


def _poll(feed: str, config: FetchConfig = QUICK) -> PollReport:
    with tempfile.TemporaryDirectory() as folder:
        return FeedPoller(Path(folder), Path(folder) / "state.sqlite", config).poll([feed])


def _fetch(url: str, config: FetchConfig = QUICK) -> str:
    async def run() -> str:
        async with Fetcher(config) as fetcher:
            return f"fetched {len((await fetcher.get(url)).content or b'')} bytes"

    try:
        return asyncio.run(run())
    except FetchError as error:
        return str(error)


def feed_on_loopback() -> str:
    with HostileSite() as site:
        site.routes["/rss.xml"] = page(rss(site.base, 3), "application/rss+xml")
        report = _poll(f"{site.base}/rss.xml")
        return f"{report.failed[0].split(': ', 1)[1]}; server asked {len(site.seen)} times"


def cloud_metadata() -> str:
    return _fetch("http://169.254.169.254/latest/meta-data/")


def _internal_attack(link: Callable[[HostileSite, HostileSite], str]) -> str:
    with HostileSite("127.0.0.1") as public, HostileSite("127.0.0.2") as internal:
        internal.routes["/admin"] = article("Internal admin page")
        public.routes["/go"] = redirect(f"{internal.base}/admin")
        item = f"<item><title>a</title><link>{link(public, internal)}</link><guid>1</guid></item>"
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel>{item}</channel></rss>'
        public.routes["/rss.xml"] = page(feed.encode(), "application/rss+xml")
        with treat_as_public("127.0.0.1"):
            report = _poll(f"{public.base}/rss.xml")
        refused = [p for p in report.problems if "refused" in p]
        outcome = "refused: loopback address" if refused else f"saved {len(report.new)}"
        return f"{outcome}; internal server asked {len(internal.seen)} times"


def item_links_inside() -> str:
    return _internal_attack(lambda public, internal: f"{internal.base}/admin")


def redirect_inside() -> str:
    return _internal_attack(lambda public, internal: f"{public.base}/go")


def dns_rebinding() -> str:
    with HostileSite("127.0.0.1") as public, HostileSite("127.0.0.2") as internal:
        public.routes["/page"] = page(b"public")
        internal.routes["/page"] = page(b"internal")
        names = {"rebind.test": ["127.0.0.1", "127.0.0.2"]}
        with treat_as_public("127.0.0.1"), resolving(names) as looked_up:
            outcome = _fetch(f"http://rebind.test:{public.port}/page")
        return (
            f"{outcome} from the checked address; {len(looked_up)} look-up, "
            f"internal server asked {len(internal.seen)} times"
        )


def one_byte_a_second() -> str:
    with HostileSite() as site:
        site.routes["/slow"] = trickle(100, 1.0)
        config = FetchConfig(timeout=3.0, deadline=DEADLINE, retries=2, allow_private=True)
        started = time.monotonic()
        outcome = _fetch(f"{site.base}/slow", config).split(":")[0]
        return f"{outcome}, after {time.monotonic() - started:.1f} s"


def endless_feed(items: int = 20_000) -> str:
    with HostileSite() as site:
        site.routes["/rss.xml"] = page(rss(site.base, items), "application/rss+xml")
        for i in range(200):
            site.routes[f"/p/{i}"] = article(f"Story {i}")
        config = FetchConfig(timeout=3.0, retries=0, allow_private=True)
        report = _poll(f"{site.base}/rss.xml", config)
        pages = sum(path.startswith("/p/") for path in site.requests())
        return f"took the newest {len(report.new)} of {items:,} items ({pages} page requests)"


def many_user_names_one_host(count: int = 100) -> str:
    with HostileSite() as site:
        site.routes["/page"] = stall(0.05, page(b"ok"))
        config = FetchConfig(timeout=5.0, retries=0, allow_private=True)
        urls = [f"http://u{i}@127.0.0.1:{site.port}/page" for i in range(count)]

        async def run() -> None:
            async with Fetcher(config) as fetcher:
                await asyncio.gather(*(fetcher.get(url) for url in urls))

        asyncio.run(run())
        return (
            f"{count} user names: at most {site.peak} requests in flight (limit {config.per_host})"
        )


async def _post(port: int, headers: dict[str, str], body: bytes) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["POST /hook HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status = (await asyncio.wait_for(reader.readline(), 10)).decode().split(" ", 2)
    writer.close()
    return f"{status[1]} {status[2].strip()}"


def _webhook(headers: dict[str, str], body: bytes = b"") -> str:
    async def run() -> str:
        async def deliver(update: dict[str, Any]) -> None:
            pass

        server = WebhookServer("/hook", "the-secret", 1_000_000, deliver)
        server.start("127.0.0.1", 0)
        try:
            started = time.monotonic()
            status = await _post(server.port, headers, body)
            return f"{status} after {time.monotonic() - started:.3f} s, body unread"
        finally:
            await server.stop()

    return asyncio.run(run())


def webhook_forged_post() -> str:
    return _webhook({"Content-Type": "application/json", "Content-Length": "50000000"})


def webhook_oversized_body() -> str:
    headers = {SECRET_HEADER: "the-secret", "Content-Length": "50000000"}
    return _webhook(headers)


def webhook_invalid_json() -> str:
    body = b'{"update_id": '
    headers = {SECRET_HEADER: "the-secret", "Content-Length": str(len(body))}
    return _webhook(headers, body).replace(", body unread", "")


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        root.handlers[:] = handlers
        root.setLevel(level)


def _serve(server_token: str, suffix: str) -> str:
    with tempfile.TemporaryDirectory() as folder, bot_api(server_token) as api:
        err = io.StringIO()
        values = {
            "NEWSDESK_TELEGRAM_TOKEN": TOKEN,
            "NEWSDESK_TELEGRAM_API_URL": api.url + suffix,
            "NEWSDESK_STATE_DB": f"{folder}/bot.sqlite",
            "NEWSDESK_INDEX_DIR": f"{folder}/index",
        }
        with _environment(values), contextlib.redirect_stderr(err):
            code = main(["serve"])
    text = err.getvalue().strip()
    leaked = any(form in text for form in spellings(TOKEN))
    return f"exit {code}, token {'LEAKED' if leaked else 'absent'}: {text.splitlines()[-1][:90]}"


def bot_api_refuses_token() -> str:
    return _serve("7234567890:AAG0000000000000000000000000000000X", "")


def bot_api_url_with_bot_suffix() -> str:
    return _serve(TOKEN, "/bot")


def attacks() -> list[tuple[str, Callable[[], str]]]:
    return [
        ("feed on 127.0.0.1", feed_on_loopback),
        ("cloud metadata 169.254.169.254", cloud_metadata),
        ("feed item linking to an internal service", item_links_inside),
        ("feed item redirecting to an internal service", redirect_inside),
        ("DNS rebinding to an internal address", dns_rebinding),
        ("page sending one byte a second", one_byte_a_second),
        ("feed of 20,000 items", endless_feed),
        ("100 user names for one host", many_user_names_one_host),
        ("webhook POST without the secret, 50 MB declared", webhook_forged_post),
        ("webhook POST with the secret, 50 MB declared", webhook_oversized_body),
        ("webhook POST of invalid JSON", webhook_invalid_json),
        ("Bot API 401 for a real-looking token", bot_api_refuses_token),
        ("NEWSDESK_TELEGRAM_API_URL ending in /bot", bot_api_url_with_bot_suffix),
    ]
