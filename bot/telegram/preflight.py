"""One getMe before the bot starts, so a wrong token and a wrong Bot API URL are told apart.

python-telegram-bot reports both as an invalid token, with the token in its message: Telegram
answers 401 for a well-formed token it does not know and 404 for a path it does not serve,
which is what a NEWSDESK_TELEGRAM_API_URL written with PTB's own "/bot" suffix produces. Each
outcome here is one SettingsError line naming the setting to fix, never the token.
"""

from __future__ import annotations

import httpx

from bot.settings import SettingsError

TELEGRAM_API = "https://api.telegram.org"


def api_root(api_url: str | None) -> str:
    """The Bot API's root, to which python-telegram-bot adds /bot<token>/<method>."""
    return (api_url or TELEGRAM_API).rstrip("/")


def check_bot_api(token: str, api_url: str | None, timeout: float = 15.0) -> None:
    """Return if getMe answers; SettingsError saying what to fix if it does not."""
    root = api_root(api_url)
    try:
        response = httpx.get(f"{root}/bot{token}/getMe", timeout=timeout)
    except httpx.HTTPError as error:
        raise SettingsError(
            f"cannot reach the Bot API at {root} ({type(error).__name__}): check the network"
            + (" and NEWSDESK_TELEGRAM_API_URL" if api_url else "")
        ) from None
    status = response.status_code
    if status == 200:
        return
    if status == 401:
        raise SettingsError(
            "the Bot API refused the token (401 for getMe): check NEWSDESK_TELEGRAM_TOKEN "
            "(@BotFather shows it)"
        )
    if status == 404 and api_url:
        raise SettingsError(
            "the Bot API URL answered 404 for getMe: check NEWSDESK_TELEGRAM_API_URL "
            f"(the server's root, without /bot; now {root})"
        )
    if status == 404:
        raise SettingsError(
            "Telegram answered 404 for getMe: NEWSDESK_TELEGRAM_TOKEN is not a bot token "
            "(@BotFather shows it)"
        )
    raise SettingsError(f"the Bot API at {root} answered {status} for getMe; try again later")
