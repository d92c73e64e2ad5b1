"""Which hosts a feed fetch may reach: public addresses only, checked where the socket connects.

A feed is a list of links chosen by whoever writes it, so a feed (or a page redirecting) could
point the fetcher at the machine itself, the private network or a cloud metadata service, and
the answer would be indexed and read back to anyone asking. Checking the URL's host name is not
enough: a name can resolve to a public address when checked and to 127.0.0.1 a moment later
(DNS rebinding). So the check lives in the network backend under httpx: every connection, for
the feed, every article and every redirect hop, resolves the host once, refuses the whole name
if any of its addresses is not public, and connects to exactly the address it checked. The URL
is untouched, so the Host header and TLS (SNI and certificate) still name the host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddressError(Exception):
    """A fetch was refused because its host is (or resolves to) a non-public address."""


def refusal(address: Address) -> str | None:
    """Why `address` may not be fetched from, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return refusal(mapped)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.0.0/16 holds the cloud metadata services
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_reserved:
        return "reserved"
    if address.is_private or not address.is_global:
        return "private"  # 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, ...
    return None


def literal_refusal(host: str) -> str | None:
    """Why a URL's host written as an IP address may not be fetched; None for names (they are
    checked when resolved) and for public addresses."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    reason = refusal(address)
    return f"{host} is a {reason} address" if reason else None


async def resolve_public(host: str, port: int) -> str:
    """The address to connect to for `host`: PrivateAddressError unless every address the name
    resolves to is public (a name with one private address among public ones is refused too)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise PrivateAddressError(f"{host} resolves to a {reason} address ({address})")
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return str(addresses[0])


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, connecting only to the public address it has just checked."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await resolve_public(host, port)
        return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise PrivateAddressError("unix sockets are not fetched from")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def public_only_transport() -> httpx.AsyncHTTPTransport:
    """httpx's transport over `PublicOnlyBackend`.

    httpx takes no network backend argument, so the transport's connection pool is replaced by
    one built the same way (TLS verified, HTTP/1.1) around the checking backend."""
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        network_backend=PublicOnlyBackend(),
    )
    return transport
