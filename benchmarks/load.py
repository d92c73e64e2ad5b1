"""Load test: the real bot, over the loopback fake Bot API server, while an admin reindexes.

200 simulated users each ask 5 questions (one after another: the next when the answer to the
last has arrived) while an admin runs /reindex over a data folder with 40 new articles.
Checks that every question is answered exactly once, then prints throughput, reply latency
(p50/p95/p99, from the question entering the fake server to the answer's sendMessage),
peak RSS of this process (bot, fake server and model together) and the machine's load.

    python -m benchmarks.load [--users 200] [--questions 5] [--index-dir DIR] [--limit-s 900]

Without --index-dir the shipped data/ is indexed first (minutes with the real model); the
index is copied, never changed. Loopback only; the whole run is bounded by --limit-s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHIPPED_DATA, percentiles
from bot.settings import load_settings
from bot.telegram.app import build_application, started
from bot.telegram.botlog import BotLog
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from tests.e2e.fake_telegram import FakeTelegram  # the fake Bot API server of the test suite

ADMIN = 4242
QUESTIONS = [
    "What did Wang Yi say about the UN?",
    "What did Jake Sullivan say about his talks with Wang Yi?",
    "How old was Abraham Lincoln when he died?",
    "How many moons does Jupiter have?",
    "What did the President say about inflation?",
    "Which countries signed the declaration?",
    "What happened at the summit in Bangkok?",
]


def new_articles(count: int) -> str:
    lines = [json.dumps({
        "id": f"load-{i}", "title": f"Harbour town approves footbridge plan {i}",
        "date": f"2025-04-{i % 28 + 1:02d}", "source": "Load Gazette",
        "paragraphs": [f"The council approved footbridge plan {i} across the canal, adding "
                       f"{i + 2} crossings before winter.", f"Residents said plan {i} would "
                       "shorten the walk to the market, according to a survey."],
    }) for i in range(count)]  # fmt: skip
    return "\n".join(lines) + "\n"


async def run(args: argparse.Namespace, work: Path) -> int:
    encoder = SentenceTransformerEncoder()
    data_dir, index_dir = work / "data", work / "index"
    shutil.copytree(SHIPPED_DATA, data_dir)
    if args.index_dir:
        shutil.copytree(args.index_dir, index_dir)
    else:
        print("indexing data/ first …", flush=True)
        build_index([data_dir], open_store(index_dir), encoder)
    (data_dir / "load.jsonl").write_text(new_articles(40), encoding="utf-8")
    async with FakeTelegram() as tg:
        settings = load_settings(
            data_dir=data_dir, index_dir=index_dir, telegram_token=tg.token,
            telegram_api_url=tg.url, admin_ids=str(ADMIN), state_db=work / "bot.sqlite",
        )  # fmt: skip
        engine = Engine(open_store(index_dir), encoder, settings.max_question_chars)
        engine.load()
        log = BotLog(settings.state_db)
        app = build_application(settings, engine, log)
        users = [tg.user(100_000 + i, f"user{i}") for i in range(args.users)]
        admin = tg.user(ADMIN, "admin")
        latencies: list[float] = []

        async def reader(number: int, user: dict[str, Any]) -> None:
            for turn in range(args.questions):
                asked = time.monotonic()
                tg.send_text(user, QUESTIONS[(number + turn) % len(QUESTIONS)])

                def answered(seen: int = turn) -> bool:
                    return len(tg.messages(user["id"])) > seen

                await tg.wait_for(answered, timeout=600)
                latencies.append(time.monotonic() - asked)

        async with started(app, poll_timeout=10):
            began = time.monotonic()
            tg.send_text(admin, "/reindex")
            readers = asyncio.gather(*(reader(n, u) for n, u in enumerate(users)))
            await asyncio.wait_for(readers, timeout=args.limit_s)
            wall = time.monotonic() - began
            reindex = await tg.wait_for(
                lambda: next((m for m in tg.messages(ADMIN) if m.text.startswith(("Index", "Re"))
                              and not m.text.startswith("Reindexing")), None),
                timeout=args.limit_s,
            )  # fmt: skip
            await asyncio.sleep(2.0)  # a duplicate answer would arrive by now
        log.close()
        counts = [len(tg.messages(u["id"])) for u in users]
        asked = args.users * args.questions
        exactly_once = all(c == args.questions for c in counts)
        load = os.getloadavg()
        print(f"users {args.users} × questions {args.questions} = {asked} questions")
        spread = f"{min(counts)}..{max(counts)}"
        print(f"answered exactly once: {exactly_once} (replies per user: {spread})")
        print(f"reindex during the run: {reindex.text.splitlines()[0]}")
        print(f"wall {wall:.1f} s, throughput {asked / wall:.1f} answers/s")
        p50, p95, p99 = percentiles(latencies, 50, 95, 99)
        print(f"latency p50 {p50:.2f} s, p95 {p95:.2f} s, p99 {p99:.2f} s, "
              f"mean {statistics.fmean(latencies):.2f} s")  # fmt: skip
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
              "(bot, fake server and model in this one process)")  # fmt: skip
        print(f"machine load (1/5/15 min) {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"on {os.cpu_count()} CPUs")  # fmt: skip
        return 0 if exactly_once else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--index-dir", type=Path, help="an index of data/ to copy")
    parser.add_argument("--limit-s", type=float, default=900.0, help="bound on the whole run")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="newsdesk-load-") as work:
        return asyncio.run(run(args, Path(work)))


if __name__ == "__main__":
    sys.exit(main())
