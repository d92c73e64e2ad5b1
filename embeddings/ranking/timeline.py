"""What someone has said about something over time: one answering passage per article, in
date order.

"What has Sullivan said about export controls since 2023?" is ranked like any question (its
period read by `text.when`, filtered by `ranking.time_filter`); then each article's best
passage that the calibration would answer with on its own (the same threshold that decides
whether to decline) is kept, up to `LIMIT` articles taken in ranked order, and shown oldest
first. Undated articles go last: they cannot be placed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from embeddings.ranking.time_filter import scoped_ranking, take
from embeddings.text.when import TimeScope

if TYPE_CHECKING:
    from embeddings.ranking.search import Result, Searcher

LIMIT = 8  # entries in a timeline
ARTICLES_READ = 24  # the best-ranked articles whose passages are checked
# "What has X said about Y", "… over time", "the timeline of …".
_ASKS_FOR_TIMELINE = re.compile(
    r"\bwhat\s+(?:has|have)\s+.+?\s+said\s+(?:about|on)\b|\bover\s+time\b|\btime\s*line\b",
    re.IGNORECASE,
)
_OVER_TIME = re.compile(r",?\s*\bover\s+time\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Timeline:
    question: str
    scope: TimeScope | None
    entries: list[Result]  # oldest first; undated last


def asks_for_timeline(question: str) -> bool:
    return _ASKS_FOR_TIMELINE.search(question) is not None


def timeline(
    searcher: Searcher,
    question: str,
    limit: int = LIMIT,
    scope: TimeScope | None = None,
    source: str | None = None,
) -> Timeline:
    scoped = scoped_ranking(searcher, _OVER_TIME.sub("", question), scope, source)
    ranking = scoped.ranking
    stored = searcher.generation.passage_rows([int(r) for r in ranking.rows])
    seen: set[str] = set()
    entries: list[Result] = []
    for index, row in enumerate(ranking.rows):
        article = stored[int(row)].article_id
        if article in seen:
            continue
        seen.add(article)
        alone = searcher.answer(question, take(ranking, np.array([index]), ranking.fused), 1)
        if alone.answered:
            entries.append(alone.results[0])
        if len(entries) == limit or len(seen) == ARTICLES_READ:
            break
    entries.sort(key=lambda r: (r.date is None, r.date or ""))
    return Timeline(question, scoped.scope, entries)
