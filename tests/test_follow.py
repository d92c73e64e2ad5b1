"""Followed topics: the store (limits, unfollowing, restarts, one claim per alert, in SQLite
and in PostgreSQL) and matching new articles against topics with the real model."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.follow.alerts import pending_alerts, start_watching
from bot.follow.store import Alerted, FollowLimitError, postgres_follows, sqlite_follows
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.stores import open_store

FOLLOW = Path(__file__).resolve().parent / "fixtures" / "follow" / "articles"
SOLAR = "floating solar farms"
DAM = "the Marrowby dam failure"
VOLCANO = "volcanic eruption on Isla Brava"
ALERT = Alerted("feeds/a", "Port Elling opens a floating solar farm", "Port Elling switched on…")


def test_a_user_follows_up_to_the_limit_and_unfollows(tmp_path: Path) -> None:
    store = sqlite_follows(tmp_path / "bot.sqlite")
    first = store.follow(1, 10, SOLAR, limit=2)
    assert store.follow(1, 10, SOLAR, limit=2) == first  # following again changes nothing
    store.follow(1, 10, DAM, limit=2)
    with pytest.raises(FollowLimitError, match="already follow 2 topics"):
        store.follow(1, 10, VOLCANO, limit=2)
    store.follow(2, 20, VOLCANO, limit=2)  # the limit is per user
    assert store.unfollow(2, first.id) is None  # not user 2's to remove
    assert store.unfollow(1, first.id) == first
    assert [f.topic for f in store.following(1)] == [DAM]


def test_follows_and_claims_survive_a_restart(tmp_path: Path) -> None:
    store = sqlite_follows(tmp_path / "bot.sqlite")
    follow = store.follow(1, 10, SOLAR, limit=20)
    assert store.claim(follow.id, ALERT)
    store.close()
    reopened = sqlite_follows(tmp_path / "bot.sqlite")
    assert reopened.following(1) == [follow]
    assert not reopened.claim(follow.id, ALERT)  # sent before the restart: never again
    assert reopened.alerted(follow.id) == [ALERT]


def test_exactly_one_replica_claims_each_alert(database_url: str) -> None:
    replicas = [postgres_follows(database_url, "newsdesk_bot") for _ in range(2)]
    follow = replicas[0].follow(1, 10, SOLAR, limit=20)
    assert replicas[1].all_follows() == [follow]  # one table for every replica
    claims = [replica.claim(follow.id, ALERT) for replica in replicas]
    assert sorted(claims) == [False, True]
    for replica in replicas:
        replica.close()


def test_replicas_starting_together_all_open_the_follows(database_url: str) -> None:
    # Concurrent CREATE SCHEMA/TABLE IF NOT EXISTS can collide in PostgreSQL's catalogue: two
    # replicas started at once must both come up.
    with ThreadPoolExecutor(6) as pool:
        starting = [pool.submit(postgres_follows, database_url, "together_bot") for _ in range(6)]
        replicas = [replica.result() for replica in starting]
    follow = replicas[0].follow(1, 10, SOLAR, limit=20)
    assert all(replica.all_follows() == [follow] for replica in replicas)
    for replica in replicas:
        replica.close()


def test_a_new_article_alerts_its_topic_once_and_reposts_do_not(
    shipped_copy: tuple[Path, Path], encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data_dir, index_dir = shipped_copy
    engine = Engine(open_store(index_dir), encoder)
    store = sqlite_follows(tmp_path / "bot.sqlite")
    start_watching(engine, store)  # the archive already there alerts nobody
    follows = {topic: store.follow(1, 10, topic, limit=20) for topic in (SOLAR, DAM, VOLCANO)}
    assert pending_alerts(engine, store) == []
    for name in ("01-port-elling-solar.txt", "03-marrowby-dam.txt", "19-dunmere-marathon.txt",
                 "13-port-elling-solar-repost.txt", "24-marrowby-wire.txt"):  # fmt: skip
        shutil.copy(FOLLOW / name, data_dir / name)
    engine.build([data_dir])
    alerts = pending_alerts(engine, store)
    sent = {(a.follow.topic, a.match.result.title) for a in alerts}
    assert sent == {
        (SOLAR, "Port Elling opens a floating solar farm in its old timber basin"),
        (DAM, "Villages evacuated after the Marrowby dam gives way"),
    }
    solar = next(a for a in alerts if a.follow == follows[SOLAR])
    assert "floating solar farm" in solar.match.result.answer_sentence
    assert pending_alerts(engine, store) == []  # nothing new since
