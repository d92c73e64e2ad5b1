"""Secrets out of every text the program writes: log records, tracebacks, error lines.

A secret reaches a text in more than one spelling: the bot token sits raw in API URLs and
python-telegram-bot's own messages, percent-encoded (":" as %3A) in file-download URLs, and a
database password is written URL-quoted in NEWSDESK_DATABASE_URL. Every spelling is replaced.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "<secret>"


def spellings(secret: str) -> set[str]:
    """`secret` as written and as URL encoders write it (either case of hex digits)."""
    encoded = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    lowered = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), form) for form in encoded}
    return {secret} | encoded | lowered


class Redactor:
    def __init__(self, secrets: Iterable[str], mask: str = MASK) -> None:
        forms = {form for secret in secrets if secret for form in spellings(secret)}
        # Longest first, so a secret is never half-replaced by a shorter form it contains.
        self._pattern = (
            re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )
        self._mask = mask

    def text(self, text: str) -> str:
        return self._pattern.sub(self._mask, text) if self._pattern else text

    def found_in(self, text: str) -> bool:
        return bool(self._pattern and self._pattern.search(text))

    def exception(self, error: BaseException) -> None:
        """Redact `error` and the exceptions it was raised from or during, in place: their
        arguments and a `message` attribute (python-telegram-bot's errors print that)."""
        seen: set[int] = set()
        pending = [error]
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            current.args = tuple(
                self.text(arg) if isinstance(arg, str) else arg for arg in current.args
            )
            message = getattr(current, "message", None)
            if isinstance(message, str):
                # A read-only attribute stays: its args were enough.
                with contextlib.suppress(AttributeError):
                    current.message = self.text(message)  # type: ignore[attr-defined]
            pending += [e for e in (current.__cause__, current.__context__) if e is not None]
