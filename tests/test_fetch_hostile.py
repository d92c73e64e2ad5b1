"""Feeds and pages that attack the fetcher: internal addresses, rebinding names, redirects to
the inside, bodies that trickle, feeds with endless items, one host under many user names."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from embeddings.feeds.addresses import literal_refusal, refusal
from embeddings.feeds.fetch import FetchConfig, Fetcher, FetchError
from embeddings.feeds.poller import FeedPoller

from .hostile_http import (
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

pytestmark = pytest.mark.timeout(60)

QUICK = FetchConfig(timeout=2.0, retries=0, backoff=0.01)


def fetch(url: str, config: FetchConfig = QUICK) -> bytes | None:
    async def run() -> bytes | None:
        async with Fetcher(config) as fetcher:
            return (await fetcher.get(url)).content

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.5", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_only_public_addresses_may_be_fetched(address: str, reason: str | None) -> None:
    import ipaddress

    assert refusal(ipaddress.ip_address(address)) == reason


def test_a_feed_on_loopback_is_refused_without_being_contacted() -> None:
    with HostileSite() as site:
        site.routes["/rss.xml"] = page(rss(site.base, 2), "application/rss+xml")
        for url in (f"{site.base}/rss.xml", f"http://[::ffff:127.0.0.1]:{site.port}/rss.xml"):
            with pytest.raises(FetchError, match=r"refused .*loopback"):
                fetch(url)
        assert site.requests() == []
    assert literal_refusal("169.254.169.254") == "169.254.169.254 is a link-local address"


def test_an_item_or_a_redirect_into_the_internal_network_is_refused(tmp_path: Path) -> None:
    """The feed is on a "public" site; its items link to, or redirect to, an internal service
    (127.0.0.2, standing for 10.x or the metadata service). Nothing reaches the service."""
    with HostileSite("127.0.0.1") as public, HostileSite("127.0.0.2") as internal:
        internal.routes["/admin"] = article("Internal admin page")
        public.routes["/rss.xml"] = page(
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                f"<item><title>a</title><link>{internal.base}/admin</link><guid>1</guid></item>"
                f"<item><title>b</title><link>{public.base}/go</link><guid>2</guid></item>"
                f"<item><title>c</title><link>{public.base}/ok</link><guid>3</guid></item>"
                "</channel></rss>"
            ).encode(),
            "application/rss+xml",
        )
        public.routes["/go"] = redirect(f"{internal.base}/admin")
        public.routes["/ok"] = article("A public story")
        poller = FeedPoller(tmp_path / "data", tmp_path / "state.sqlite", QUICK)
        with treat_as_public("127.0.0.1"):
            report = poller.poll([f"{public.base}/rss.xml"])
        assert internal.requests() == []
        assert len(report.new) == 1  # the public story
        refused = [p for p in report.problems if "refused" in p and "loopback" in p]
        assert len(refused) == 2, report.problems
        assert public.requests().count("/go") == 1  # the hop was asked for, its target was not


def test_a_name_that_rebinds_to_an_internal_address_is_resolved_once_and_pinned() -> None:
    """rebind.test answers a public address at its first look-up and 127.0.0.2 after: the
    fetcher checks and connects to the same, first answer, keeping the name in Host."""
    with HostileSite("127.0.0.1") as public, HostileSite("127.0.0.2") as internal:
        public.routes["/page"] = page(b"public")
        internal.routes["/page"] = page(b"internal secret")
        url = f"http://rebind.test:{public.port}/page"
        with (
            treat_as_public("127.0.0.1"),
            resolving({"rebind.test": ["127.0.0.1", "127.0.0.2"]}) as looked_up,
        ):
            assert fetch(url) == b"public"
        assert looked_up == ["rebind.test"]
        assert internal.requests() == []
        assert public.seen[0].host == f"rebind.test:{public.port}"
        assert public.seen[0].local == "127.0.0.1"
        # And a name whose first answer is internal is refused before any connection.
        with resolving({"inside.test": ["127.0.0.2"]}), pytest.raises(FetchError, match="loopback"):
            fetch(f"http://inside.test:{internal.port}/page")
        assert internal.requests() == []


def test_opting_in_reaches_private_addresses() -> None:
    with HostileSite() as site:
        site.routes["/page"] = page(b"intranet")
        assert fetch(f"{site.base}/page", FetchConfig(retries=0, allow_private=True)) == b"intranet"


def test_a_body_trickled_one_byte_at_a_time_is_cut_at_the_deadline() -> None:
    with HostileSite() as site:
        site.routes["/slow"] = trickle(1000, 0.05)  # 50 s in all, each read well within 2 s
        config = FetchConfig(timeout=2.0, deadline=1.0, retries=2, backoff=0.01, allow_private=True)
        started = time.monotonic()
        with pytest.raises(FetchError, match="cut at the 1 s deadline"):
            fetch(f"{site.base}/slow", config)
        assert time.monotonic() - started < 2.5
        assert site.requests() == ["/slow"]  # a trickling server is not asked again


def test_one_host_under_many_user_names_and_ports_shares_one_limit() -> None:
    with HostileSite() as site:
        site.routes["/page"] = stall(0.2, page(b"ok"))
        config = FetchConfig(timeout=5.0, per_host=2, retries=0, allow_private=True)
        host = f"127.0.0.1:{site.port}"
        urls = [f"http://user{i}@{host}/page" for i in range(12)]
        urls += [f"http://user{i}:pw@{host.upper()}/page" for i in range(4)]

        async def run() -> None:
            async with Fetcher(config) as fetcher:
                await asyncio.gather(*(fetcher.get(url) for url in urls))

        asyncio.run(run())
        assert len(site.requests()) == len(urls)
        assert site.peak <= 2


def test_a_feed_of_many_items_fetches_only_the_newest(tmp_path: Path) -> None:
    with HostileSite() as site:
        site.routes["/rss.xml"] = page(rss(site.base, 5000), "application/rss+xml")
        for i in range(5000):
            site.routes[f"/p/{i}"] = article(f"Story {i}")
        config = FetchConfig(timeout=5.0, retries=0, max_items=5, allow_private=True)
        poller = FeedPoller(tmp_path / "data", tmp_path / "state.sqlite", config)
        report = poller.poll([f"{site.base}/rss.xml"])
        pages = sorted(p for p in site.requests() if p.startswith("/p/"))
        assert pages == [f"/p/{i}" for i in range(5)]  # item 0 is the newest
        assert len(report.new) == 5
        assert any("lists 5,000 items; only the newest 5" in p for p in report.problems)
