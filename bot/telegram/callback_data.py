"""The data behind an answer's buttons: written and read only here.

A button carries what to do and the answer's session token (bot.telegram.sessions), within
Telegram's 64 bytes: "m:<token>:<start>" (More, or the closest matches from `start`),
"f:<token>:<result>" (Full article of the `result`th result's article; "f:<token>" from before
there was one per article opens the first), "p:<token>:<result>:<page>" (a page of that
article), "t:<token>" (Timeline), "v:<token>:1" and "v:<token>:-1" (👍 and 👎). The client
sends the data back and may have changed it, so `parse` accepts only these exact shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_MORE = re.compile(r"m:(?P<token>[^:]*):(?P<start>[0-9]{1,3})")
_ARTICLE = re.compile(r"f:(?P<token>[^:]*)(?::(?P<result>[0-9]{1,3}))?")
_PAGE = re.compile(r"p:(?P<token>[^:]*):(?P<result>[0-9]{1,3}):(?P<page>[0-9]{1,3})")
_TIMELINE = re.compile(r"t:(?P<token>[^:]*)")
_VOTE = re.compile(r"v:(?P<token>[^:]*):(?P<vote>1|-1)")


@dataclass(frozen=True, slots=True)
class More:
    """The next page of results, from the `start`th (counting from 0)."""

    token: str
    start: int

    @property
    def data(self) -> str:
        return f"m:{self.token}:{self.start}"


@dataclass(frozen=True, slots=True)
class FullArticle:
    """The whole article the `result`th result (counting from 0) comes from."""

    token: str
    result: int = 0

    @property
    def data(self) -> str:
        return f"f:{self.token}:{self.result}"


@dataclass(frozen=True, slots=True)
class ArticlePage:
    """The `page`th page (counting from 0) of the article of the `result`th result."""

    token: str
    result: int
    page: int

    @property
    def data(self) -> str:
        return f"p:{self.token}:{self.result}:{self.page}"


@dataclass(frozen=True, slots=True)
class TimelineOf:
    """What the archive has said on the question's topic over time, oldest first."""

    token: str

    @property
    def data(self) -> str:
        return f"t:{self.token}"


@dataclass(frozen=True, slots=True)
class Vote:
    """Feedback on the answer: 1 for 👍, -1 for 👎."""

    token: str
    vote: Literal[1, -1]

    @property
    def data(self) -> str:
        return f"v:{self.token}:{self.vote}"


Button = More | FullArticle | ArticlePage | TimelineOf | Vote


def parse(data: str) -> Button | None:
    """The button `data` was written for, or None for anything this bot does not write."""
    if match := _MORE.fullmatch(data):
        return More(match["token"], int(match["start"]))
    if match := _ARTICLE.fullmatch(data):
        return FullArticle(match["token"], int(match["result"] or 0))
    if match := _PAGE.fullmatch(data):
        return ArticlePage(match["token"], int(match["result"]), int(match["page"]))
    if match := _TIMELINE.fullmatch(data):
        return TimelineOf(match["token"])
    if match := _VOTE.fullmatch(data):
        return Vote(match["token"], 1 if match["vote"] == "1" else -1)
    return None
