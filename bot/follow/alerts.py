"""New articles against followed topics: which follower gets which alert.

Run after anything that may have changed the index (a feed poll, an upload, a reindex, or a
build by another replica or by `newsdesk index`): the articles whose digest the store has not
seen are matched against every followed topic (embeddings.ranking.topics: the same ranker and
decline calibration as questions, over the new passages only), and each match is claimed in
the store before it is returned for sending, so it goes out once, from one replica.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

from bot.follow.store import Alerted, Follow, SqlFollows
from embeddings import Engine, TopicMatch
from embeddings.ranking.search import collapse_near_duplicates

BODY_CHARS = 5000  # of an alerted article's text, kept to recognise its reposts


@dataclass(frozen=True, slots=True)
class Alert:
    follow: Follow
    match: TopicMatch


class Watch:
    """The index generation last checked, so that a periodic check costs nothing until
    another generation is current."""

    def __init__(self) -> None:
        self._token: Hashable | None = None
        self._checked = False

    def due(self, engine: Engine) -> bool:
        token = engine.store.token()
        if self._checked and token == self._token:
            return False
        self._checked, self._token = True, token
        return True


def start_watching(engine: Engine, store: SqlFollows) -> None:
    """On a store that has seen nothing yet (the bot's first start), record what is indexed
    now: following is about what arrives next, not about the archive already there."""
    if engine.has_index() and not store.seen():
        store.mark_seen(engine.article_digests())


def pending_alerts(engine: Engine, store: SqlFollows) -> list[Alert]:
    """Match the articles not seen yet against the follows; claim and return the alerts.
    Blocking (encoding, database): call it in a worker thread."""
    current = engine.article_digests()
    seen = store.seen()
    fresh = sorted(a for a, digest in current.items() if seen.get(a) != digest)
    if not fresh:
        return []
    alerts: list[Alert] = []
    follows = store.all_follows()
    if follows:
        topics = sorted({f.topic for f in follows})
        by_topic: defaultdict[str, list[TopicMatch]] = defaultdict(list)
        for match in engine.match_topics(topics, fresh):
            by_topic[topics[match.topic]].append(match)
        for follow in follows:
            alerts += _claim(store, follow, by_topic[follow.topic], engine)
    store.mark_seen({a: current[a] for a in fresh})
    return alerts


def _claim(
    store: SqlFollows, follow: Follow, matches: list[TopicMatch], engine: Engine
) -> list[Alert]:
    """The matches not repeating an article already alerted for this follow, claimed. Of
    near-duplicates arriving together the first published (then the first by id) is sent."""
    earlier = store.alerted(follow.id)
    claimed: list[Alert] = []
    for match in sorted(matches, key=lambda m: (m.result.date or "", m.result.article_id)):
        result = match.result
        article = engine.article(result.article_id)
        body = "\n".join(article.paragraphs) if article else result.text
        candidate = Alerted(result.article_id, result.title, body[:BODY_CHARS])
        if any(is_near_duplicate(candidate, other) for other in earlier):
            continue
        if store.claim(follow.id, candidate):
            claimed.append(Alert(follow, match))
            earlier.append(candidate)
    return claimed


def is_near_duplicate(new: Alerted, old: Alerted) -> bool:
    """Another article telling the same: the same title, or its text nearly repeated (the
    test that keeps a repost out of an answer's results, on the articles' texts: the two
    may be matched by different paragraphs)."""
    if new.article_id == old.article_id:
        return True
    if _folded(new.title) == _folded(old.title):
        return True
    pair = [(old.article_id, old.body), (new.article_id, new.body)]
    return len(collapse_near_duplicates(pair, 2)) < 2


def _folded(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.casefold()))
