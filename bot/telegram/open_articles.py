"""Which article message each answer's "Full article" button has opened, so that pressing it
again edits that message instead of sending the article again (bot.telegram.article_pages)."""

from __future__ import annotations

from collections import OrderedDict


class OpenArticles:
    """The article messages sent for each answer's buttons, by (token, result index), so that
    a second press edits the open one. A key is claimed before its message is sent, so two
    presses at once still send one message. Bounded: the oldest are forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._messages: OrderedDict[tuple[str, int], tuple[int, int] | None] = OrderedDict()

    def claim(self, token: str, result: int) -> tuple[bool, tuple[int, int] | None]:
        """(True, None) when this press should send the article; otherwise (False, the open
        message's (chat id, message id), or None while the first press is still sending)."""
        key = (token, result)
        if key in self._messages:
            return False, self._messages[key]
        self._messages[key] = None
        while len(self._messages) > self._capacity:
            self._messages.popitem(last=False)
        return True, None

    def opened(self, token: str, result: int, chat_id: int, message_id: int) -> None:
        self._messages[(token, result)] = (chat_id, message_id)

    def release(self, token: str, result: int) -> None:
        self._messages.pop((token, result), None)
