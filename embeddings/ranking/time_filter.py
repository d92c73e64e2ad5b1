"""A search within a period, a source, or with a preference for the newest or earliest passage.

- An explicit period ("in March 2023", `--since`) filters: the ranking is taken `DEEPER` times
  deeper than usual (one search, a larger candidate pool) and passages dated outside the period
  are dropped. A passage without a date is outside every explicit period: nothing places it
  there, and a reader who asked for March 2023 should not be shown an undated page.
- "latest", "most recent", "now" and "the first time" do not filter. Among the `PREFERENCE_POOL`
  most relevant passages, the newest (or earliest) gains up to `PREFERENCE` on the fused score
  (a sum of z-scores), in proportion to its date's rank among them: a bounded nudge between
  passages that answer, never a decay over the whole archive.
- Declined within a period: the same ranking without the filter says which dates outside the
  period do answer, nearest first, so the reply can offer them.
- "After the Vienna talks": the period starts on the day the archive reports the event, found
  by searching the event's phrase (`event_days`; the reading is `text.events`).
- A time-scoped question with an opening occasion ("When the group met after its launch, who
  led the delegation?"): the whole question picks the article, its main clause the paragraph.

The time expression itself is taken out of the question before it is embedded and matched
(`text.when.read_time`), relative to the archive's newest date when that is earlier than today.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from embeddings.text.events import EventDays, read_time_with_events
from embeddings.text.when import TimedQuestion, TimeScope, main_clause

if TYPE_CHECKING:
    from embeddings.index.rows import StoredPassage
    from embeddings.ranking.search import Answer, Ranking, Searcher

DEEPER = 4  # a filtered search reads this many times the usual candidates
PREFERENCE = 3.0  # most a newest/earliest passage gains on the fused score (docs/time.md)
PREFERENCE_POOL = 10  # the most relevant passages the preference orders
NEAREST = 3  # dates offered when nothing in the period answers
EVENT_POOL = 5  # passages an event phrase's day is read from (see event_days)
# How sure the decline calibration must be that a passage reports an event before its day
# bounds a question: a stricter bar than answering at all, so that a decline threshold refitted
# to answer more paraphrases does not date "the London session" by a speech that mentions London.
# The bar the lookup was tuned with (docs/time.md).
EVENT_CONFIDENCE = 0.57


@dataclass(frozen=True, slots=True)
class ScopedRanking:
    """A question's candidates within its period and source, best first (preference applied)."""

    text: str  # the question without its time expression
    scope: TimeScope | None  # what was read from the question and given, combined
    filters: bool  # whether a period or a source dropped candidates
    ranking: Ranking  # the kept candidates
    unfiltered: Ranking  # every candidate, as ranked before the filter


def scoped_ranking(
    searcher: Searcher,
    question: str,
    scope: TimeScope | None = None,
    source: str | None = None,
    events: bool = True,
    timed_words: bool = True,
) -> ScopedRanking:
    """The question's own time expression read and combined with `scope` (the caller's
    period, e.g. the command line's --since/--until) and `source`, and the ranking within.
    With `events`, "after <event>" is bounded by the event's date in the archive; without
    `timed_words`, the question's time words are only words."""
    from embeddings.ranking.search import CANDIDATES

    lookup = event_days(searcher) if events else None
    timed = (
        read_time_with_events(question, archive_today(searcher), lookup)
        if timed_words
        else TimedQuestion(question, None)
    )
    asked = _combined(timed.scope, scope)
    if asked is None and source is None:
        ranking = searcher.rank(question)
        return ScopedRanking(question, None, False, ranking, ranking)
    text = timed.text or question
    filters = source is not None or (asked is not None and asked.filters)
    depth = CANDIDATES * DEEPER if filters else CANDIDATES
    ranking = searcher.rank(text, depth)
    stored = searcher.generation.passage_rows([int(r) for r in ranking.rows])
    passages = [stored[int(r)] for r in ranking.rows]
    read_period = scope is None and timed.scope is not None and timed.scope.filters
    if read_period and not any(p.date for p in passages):
        # None of the candidates is dated (a folder of undated texts, an encyclopedia): the
        # question's period cannot choose among them, and "in 1995" is then part of what it
        # asks ("who bought the factory in 1995?").
        return scoped_ranking(searcher, question, None, source, events, timed_words=False)
    keep = np.array(
        [(asked is None or asked.holds(p.date)) and _from(p, source) for p in passages], bool
    )
    fused = ranking.fused.copy()
    if asked is not None and asked.order is not None:
        fused += _preference(fused, keep, [p.date for p in passages], asked.order == "latest")
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(-fused[kept], kind="stable")]
    if len(order) > 1:
        articles = [p.article_id for p in passages]
        order = _main_clause_first(searcher, text, depth, order, articles, ranking.rows)
    return ScopedRanking(text, asked, filters, take(ranking, order, fused), ranking)


def _main_clause_first(
    searcher: Searcher,
    text: str,
    depth: int,
    order: np.ndarray,
    articles: list[str],
    candidates: np.ndarray,
) -> np.ndarray:
    """`order` with the first article's passages in the order its main clause ranks them.

    "When the working group held a meeting, who led the Chinese delegation?": with the period
    (or the event) filtering, the occasion clause names the article, but matching it also pulls
    the article's opening paragraph ("On July 31, … held a senior official meeting") above the
    one that answers. The whole question picks the article; the main clause, its paragraph:
    the places the article's passages hold in the ranking are refilled in the main clause's
    order (passages it does not rank keep their order, after those it does)."""
    main = main_clause(text)
    if main is None:
        return order
    first = articles[int(order[0])]
    places = [i for i, at in enumerate(order) if articles[int(at)] == first]
    if len(places) < 2:
        return order
    rows = [int(row) for row in candidates]
    rank_of = {int(row): i for i, row in enumerate(searcher.rank(main, depth).rows)}
    own = sorted(
        (int(order[i]) for i in places), key=lambda at: rank_of.get(rows[at], len(rank_of))
    )
    refilled = order.copy()
    refilled[places] = own
    return refilled


def search_within(
    searcher: Searcher,
    question: str,
    top: int,
    scope: TimeScope | None = None,
    source: str | None = None,
) -> Answer:
    """`searcher.search`: the best `top` passages of the scoped ranking; declined within a
    period, with the nearest dates outside it that do answer."""
    scoped = scoped_ranking(searcher, question, scope, source)
    answer = searcher.answer(question, scoped.ranking, top)
    asked = scoped.scope
    if asked is None:
        return answer
    answer = dataclasses.replace(answer, scope=asked)
    if not scoped.filters or answer.answered:
        return answer
    outside = searcher.answer(scoped.text, scoped.unfiltered, top)
    if not outside.answered:
        return answer
    dates = sorted({r.date[:10] for r in outside.results if r.date}, key=asked.distance)
    return dataclasses.replace(answer, nearest_dates=tuple(dates[:NEAREST]))


def event_days(searcher: Searcher) -> EventDays:
    """The days of the passages an event phrase ("the Bali meeting") ranks first, best first:
    of the `EVENT_POOL` best (the best alone within a period the phrase dates), those the
    calibration gives at least `EVENT_CONFIDENCE` (`text.events` reads the event's day from
    them)."""

    def lookup(phrase: str, within: TimeScope | None) -> list[dt.date]:
        ranking = scoped_ranking(searcher, phrase, within, events=False).ranking
        days = []
        for i in range(min(1 if within is not None else EVENT_POOL, len(ranking.rows))):
            found = searcher.answer(phrase, take(ranking, np.array([i]), ranking.fused), 1)
            if found.confidence >= EVENT_CONFIDENCE and found.results[0].date:
                days.append(dt.date.fromisoformat(found.results[0].date[:10]))
        return days

    return lookup


def archive_today(searcher: Searcher) -> dt.date:
    """Today, for relative dates: the real today, or the archive's newest article date when
    the archive stops earlier (a sample archive, or feeds that stopped)."""
    if searcher.today is None:
        newest = searcher.generation.catalogue().last_date
        today = dt.date.today()
        searcher.today = min(today, dt.date.fromisoformat(newest[:10])) if newest else today
    return searcher.today


def _combined(read: TimeScope | None, given: TimeScope | None) -> TimeScope | None:
    if given is None:
        return read
    if read is None:
        return given
    narrowed = read.narrowed(given.since, given.until)
    return dataclasses.replace(narrowed, order=read.order or given.order)


def _from(passage: StoredPassage, source: str | None) -> bool:
    return source is None or source.casefold() in (passage.source or "").casefold()


def _preference(
    fused: np.ndarray, keep: np.ndarray, dates: list[str | None], newest: bool
) -> np.ndarray:
    """Per candidate, what the newest/earliest preference adds: the `PREFERENCE_POOL` most
    relevant dated candidates ranked by date, the preferred end gaining `PREFERENCE`."""
    bonus = np.zeros(len(fused), np.float32)
    kept = [int(i) for i in np.flatnonzero(keep)]
    pool = sorted((i for i in kept if dates[i]), key=lambda i: -fused[i])[:PREFERENCE_POOL]
    if len(pool) < 2:
        return bonus
    days = sorted({str(dates[i])[:10] for i in pool})
    if len(days) < 2:
        return bonus
    for i in pool:
        place = days.index(str(dates[i])[:10]) / (len(days) - 1)  # 0 oldest … 1 newest
        bonus[i] = PREFERENCE * (place if newest else 1.0 - place)
    return bonus


def take(ranking: Ranking, order: np.ndarray, fused: np.ndarray) -> Ranking:
    """The ranking's candidates `order` (indices into it), with `fused` as their scores."""

    def pick(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[order]

    return dataclasses.replace(
        ranking,
        rows=ranking.rows[order],
        fused=fused[order],
        dense=ranking.dense[order],
        sentence=ranking.sentence[order],
        best_sentence=ranking.best_sentence[order],
        translated=pick(ranking.translated),
        multilingual=pick(ranking.multilingual),
    )
