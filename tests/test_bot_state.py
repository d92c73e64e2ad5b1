"""The bot's server-side state: answer sessions, the rate limit and the question log."""

from __future__ import annotations

from pathlib import Path

from bot.telegram.botlog import BotLog, _percentile
from bot.telegram.callback_data import ArticlePage, FullArticle, More, Vote, parse
from bot.telegram.ratelimit import RateLimiter
from bot.telegram.sessions import Sessions
from embeddings import Answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ANSWER = Answer("q", answered=True, confidence=0.9, results=[])


def test_sessions_expire_and_are_bounded() -> None:
    clock = Clock()
    sessions = Sessions(ttl_seconds=60, capacity=2, clock=clock)
    first = sessions.add(ANSWER, question_id=1, user_id=7)
    assert len(first) == 8
    assert sessions.get(first) is not None
    clock.now += 61
    assert sessions.get(first) is None
    tokens = [sessions.add(ANSWER, i, 7) for i in range(3)]
    assert sessions.get(tokens[0]) is None
    assert sessions.get(tokens[2]) is not None
    assert len(sessions) == 2


def test_button_data_fits_telegrams_64_bytes_and_reads_back() -> None:
    token = Sessions(60).add(ANSWER, 1, 1)
    for button in (More(token, 999), More(token, 0), FullArticle(token), FullArticle(token, 14),
                   ArticlePage(token, 14, 999), Vote(token, 1), Vote(token, -1)):  # fmt: skip
        assert len(button.data.encode()) <= 64
        assert parse(button.data) == button


def test_button_data_only_in_the_shapes_the_bot_writes() -> None:
    forged = ["v:t:1000", "v:t:", "v:t:+1", "m:t:-3", "m:t:1e9", "m:t:1000", "m:t:", "m:t:٣",
              "m:t:3:", "f:t:", "f:t:1000", "f:t:1:2", "p:t:1", "p:t:1:", "p:t:1:-1", "p:t:1:2:3",
              "x:y:z", ":::", "v", "", "m:" + "9" * 60]  # fmt: skip
    assert [data for data in forged if parse(data) is not None] == []
    # Buttons sent before each article had its own open the first result's article.
    assert parse("f:t") == FullArticle("t", 0)


def test_rate_limit_is_a_sliding_minute_per_user() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    assert limiter.wait_seconds(1) == 0
    assert limiter.wait_seconds(1) == 0
    assert limiter.wait_seconds(1) == 60.0
    assert limiter.wait_seconds(2) == 0  # other users are not affected
    clock.now += 30
    assert limiter.wait_seconds(1) == 30.0
    clock.now += 30
    assert limiter.wait_seconds(1) == 0


def test_bot_log_counts_answers_votes_and_latency(tmp_path: Path) -> None:
    log = BotLog(tmp_path / "state" / "bot.sqlite")
    declined = Answer("nothing", answered=False, confidence=0.1, results=[])
    first = log.record_question(1, 1, ANSWER, 120.0)
    log.record_question(2, 2, declined, 80.0)
    log.record_question(3, 3, ANSWER, 300.0)
    log.record_vote(first, 1, 1)
    log.record_vote(first, 1, -1)  # a change of mind replaces the vote
    log.record_vote(first, 2, 1)
    usage = log.usage()
    assert (usage.answered, usage.declined, usage.thumbs_up, usage.thumbs_down) == (2, 1, 1, 1)
    assert (usage.p50_ms, usage.p95_ms) == (120.0, 300.0)
    log.close()


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (_percentile(values, 50), _percentile(values, 95), _percentile([], 50)) == (
        50.0, 95.0, None,
    )  # fmt: skip


def test_a_user_over_the_limit_is_warned_once_a_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(1, clock=lambda: now[0])
    assert limiter.wait_seconds(1) == 0
    assert limiter.wait_seconds(1) > 0
    assert [limiter.should_warn(1) for _ in range(5)] == [True, False, False, False, False]
    assert limiter.should_warn(2)  # another user has not been warned
    now[0] = 61.0
    assert limiter.should_warn(1)
