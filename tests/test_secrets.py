"""The bot token never reaches a log line, not even inside a traceback."""

from __future__ import annotations

import io
import logging

from bot.telegram.app import RedactSecrets

TOKEN = "123456:SECRET-TOKEN-abc"


def test_the_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactSecrets(TOKEN))
    logger = logging.getLogger("tests.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getFile")
        except ConnectionError:
            logger.exception("update 7 failed")
        logger.error("stack", stack_info=True, extra={"token": TOKEN})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "ConnectionError: cannot reach https://api.telegram.org/bot<token>/getFile" in output
    assert "bot<token>/getMe" in output
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
