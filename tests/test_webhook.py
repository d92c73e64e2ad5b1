"""`serve --webhook`: a secret is required, the listener binds to loopback by default, and a
request is judged on its headers (secret, size) before its body is read."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.settings import SettingsError, load_settings
from bot.telegram.app import run
from bot.telegram.webhook import SECRET_HEADER, WebhookServer, webhook_secret

pytestmark = pytest.mark.timeout(30)

SECRET = "s3cret-Token_value"


async def post(port: int, headers: dict[str, str], body: bytes = b"") -> tuple[int, float]:
    """Send the headers and `body` (possibly less than Content-Length says): the status and
    how long the answer took."""
    started = asyncio.get_running_loop().time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["POST /hook HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return int(status_line.split()[1]), asyncio.get_running_loop().time() - started


async def test_a_request_is_refused_on_its_headers_and_bad_json_is_a_400() -> None:
    delivered: list[dict[str, Any]] = []

    async def deliver(update: dict[str, Any]) -> None:
        delivered.append(update)

    server = WebhookServer("/hook", SECRET, 10_000, deliver)
    server.start("127.0.0.1", 0)
    try:
        json_type = {"Content-Type": "application/json"}
        # 50 MB declared and never sent: answered at once, from the headers alone.
        huge = {**json_type, "Content-Length": "50000000"}
        assert (await post(server.port, huge))[0] == 403
        assert (await post(server.port, {**huge, SECRET_HEADER: "wrong"}))[0] == 403
        status, seconds = await post(server.port, {**huge, SECRET_HEADER: SECRET})
        assert (status, seconds < 2) == (413, True)
        chunked = {**json_type, SECRET_HEADER: SECRET, "Transfer-Encoding": "chunked"}
        assert (await post(server.port, chunked, b"0\r\n\r\n"))[0] == 411
        bad = b"{not json"
        headers = {**json_type, SECRET_HEADER: SECRET, "Content-Length": str(len(bad))}
        assert (await post(server.port, headers, bad))[0] == 400
        good = json.dumps({"update_id": 7}).encode()
        headers = {**json_type, SECRET_HEADER: SECRET, "Content-Length": str(len(good))}
        assert (await post(server.port, headers, good))[0] == 200
        assert delivered == [{"update_id": 7}]
    finally:
        await server.stop()


def test_serve_webhook_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSDESK_WEBHOOK_SECRET", raising=False)
    settings = load_settings(telegram_token="123456:" + "A" * 35)
    assert settings.webhook_listen == "127.0.0.1"
    with pytest.raises(SettingsError, match="NEWSDESK_WEBHOOK_SECRET"):
        run(settings, webhook_url="https://bot.example/hook")  # before any engine or network
    assert webhook_secret(load_settings(webhook_allow_no_secret=True)) is None
    assert webhook_secret(load_settings(webhook_secret=SECRET)) == SECRET
    with pytest.raises(SettingsError, match="letters, digits"):
        webhook_secret(load_settings(webhook_secret="has spaces"))
