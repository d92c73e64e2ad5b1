"""A real-looking bot token never reaches the terminal or a log, in any spelling, whatever the
Bot API answers; a wrong token and a wrong Bot API URL are told apart."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.cli.commands import main
from bot.redact import Redactor, spellings
from bot.settings import SettingsError
from bot.telegram.api import TelegramError
from bot.telegram.app import RedactSecrets

from .e2e.fake_telegram import FakeTelegram

pytestmark = pytest.mark.timeout(60)

TOKEN = "7234567890:AAHfQ3kZ9x_Lr2-mWq8TnVb4YcUe6PdOsJg"  # digits, ":", 35 characters
SERVER_TOKEN = "7234567890:AAG0000000000000000000000000000000X"


def leaks(text: str) -> list[str]:
    return [form for form in spellings(TOKEN) | {TOKEN.split(":")[1]} if form in text]


@contextlib.contextmanager
def bot_api(token: str) -> Iterator[FakeTelegram]:
    """The fake Bot API on 127.0.0.1, in its own thread (the CLI under test is synchronous)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeTelegram(token=token)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("NEWSDESK_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSDESK_STATE_DB", str(tmp_path / "bot.sqlite"))
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path  # the root logger is restored after each test (tests/conftest.py)


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_refused_token_is_reported_without_it(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug: list[str],
) -> None:
    with bot_api(SERVER_TOKEN) as api:
        monkeypatch.setenv("NEWSDESK_TELEGRAM_API_URL", api.url)
        if debug:
            with pytest.raises(SettingsError) as raised:
                main(["serve", *debug])
            shown = str(raised.value)
        else:
            assert main(["serve"]) == 1
            shown = ""
    err = capsys.readouterr().err
    assert "the Bot API refused the token (401 for getMe): check NEWSDESK_TELEGRAM_TOKEN" in err
    assert leaks(err + shown) == []


def test_a_bot_api_url_with_the_bot_suffix_is_named_as_the_problem(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with bot_api(TOKEN) as api:
        monkeypatch.setenv("NEWSDESK_TELEGRAM_API_URL", f"{api.url}/bot")
        assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the Bot API URL answered 404 for getMe: check NEWSDESK_TELEGRAM_API_URL"
    )
    assert "Traceback" not in err
    assert leaks(err) == []


def test_errors_naming_the_token_are_redacted_on_the_way_out(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """python-telegram-bot's own message for a rejected token, raised from inside `serve`."""
    import bot.telegram.app

    def rejected(*args: object, **kwargs: object) -> None:
        try:
            raise TelegramError(f"Unauthorized: GET /bot{quote(TOKEN, safe='')}/getMe")
        except TelegramError as cause:
            raise TelegramError(f"The token `{TOKEN}` was rejected by the server.") from cause

    monkeypatch.setattr(bot.telegram.app, "run", rejected)
    assert main(["serve"]) == 1
    with pytest.raises(TelegramError) as raised:
        main(["serve", "--debug"])
    assert leaks(capsys.readouterr().err) == []
    assert leaks(str(raised.value)) == []
    assert leaks(str(raised.value.__cause__)) == []


def test_every_spelling_is_redacted_from_log_records_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(TOKEN))
    logger = logging.getLogger("tests.token_redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # As python-telegram-bot builds a file URL (quote() of the path: ":" becomes %3A).
        logger.warning("HTTP Request: GET http://h/file/bot%s/documents/a.md", quote(TOKEN))
        logger.warning("lower hex: %s", quote(TOKEN, safe="").replace("%3A", "%3a"))
        try:
            raise ConnectionError(f"cannot reach /bot{quote(TOKEN, safe='')}/getFile")
        except ConnectionError:
            logger.exception("download failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "file/bot<token>/documents" in output
    assert leaks(output) == []


def test_the_redactor_cleans_an_exception_chain_in_place() -> None:
    try:
        try:
            raise OSError(f"GET /bot{TOKEN}/getMe")
        except OSError:
            raise TelegramError(f"token `{quote(TOKEN)}`") from None
    except TelegramError as error:
        caught = error
    Redactor([TOKEN]).exception(caught)
    assert leaks(str(caught)) == []
    assert leaks(str(caught.__context__)) == []
