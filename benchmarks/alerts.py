"""Precision and recall of follow alerts, through the real models.

Indexes a copy of an archive (default: the repository's data/), follows the labelled topics,
adds the labelled new articles as one incremental update (as a feed poll does), and compares
the alerts with the labels: a (topic, article) alert is right when labels.json lists it, and
a near-duplicate of an alerted article that alerts again counts as a wrong alert.

    python -m benchmarks.alerts [--set tests/fixtures/follow] [--archive data] [--multilingual]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHIPPED_DATA
from bot.follow.alerts import pending_alerts, start_watching
from bot.follow.store import sqlite_follows
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.stores import open_store
from embeddings.models.multilingual import MultilingualEncoder

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "follow"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="articles/ + labels.json")
    parser.add_argument("--archive", type=Path, default=SHIPPED_DATA, help="the indexed archive")
    parser.add_argument("--multilingual", action="store_true", help="index both models")
    args = parser.parse_args()
    labels = json.loads((args.set / "labels.json").read_text(encoding="utf-8"))
    topics: list[str] = labels["topics"]
    alerts_of = labels["alerts"].items()
    expected = {(topic, Path(name).stem) for name, listed in alerts_of for topic in listed}
    articles = sorted((args.set / "articles").glob("*.txt"))
    multilingual = MultilingualEncoder() if args.multilingual else None
    with tempfile.TemporaryDirectory() as scratch:
        data, index = Path(scratch) / "data", Path(scratch) / "index"
        shutil.copytree(args.archive, data)
        engine = Engine(open_store(index), SentenceTransformerEncoder(), multilingual=multilingual)
        engine.build([data])
        store = sqlite_follows(Path(scratch) / "bot.sqlite")
        start_watching(engine, store)
        for topic in topics:
            store.follow(1, 1, topic, limit=len(topics))
        for article in articles:
            shutil.copy(article, data / article.name)
        engine.build([data])
        started = time.perf_counter()
        alerts = pending_alerts(engine, store)
        seconds = time.perf_counter() - started
        again = pending_alerts(engine, store)
    sent = {(a.follow.topic, a.match.result.article_id) for a in alerts}  # ids: file stems
    right = sent & expected
    for topic, name in sorted(sent - expected):
        print(f"wrong alert: {topic!r} ← {name}")
    for topic, name in sorted(expected - sent):
        print(f"missed:      {topic!r} ← {name}")
    precision = len(right) / len(sent) if sent else 1.0
    recall = len(right) / len(expected) if expected else 1.0
    print(f"{len(articles)} new articles, {len(topics)} followed topics, "
          f"{len(expected)} expected alerts, {len(sent)} sent")  # fmt: skip
    print(f"precision {precision:.2f}, recall {recall:.2f}; matching took {seconds:.2f} s; "
          f"a second check sent {len(again)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
