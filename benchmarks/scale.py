"""The large archive: parse and chunk all 14,397 briefing-room files, index a slice of them
with the real model, and time questions against that index.

    python benchmarks/scale.py [--docs 300] [--questions 50]

Prints parse and chunk throughput for the whole archive, encoding throughput and build time
for the slice, question latency (median and p95) on it, and the encoding time the whole
archive would take at the measured rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_from_articles, load_articles
from embeddings.index.stores import open_store
from embeddings.text.chunking import chunk_article

REPO = Path(__file__).resolve().parent.parent
TARBALL = REPO.parent / "shared" / "corpora" / "wh-briefings.tar.xz"
QUESTIONS = REPO.parent / "shared" / "eval" / "news-dev" / "queries.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300, help="articles to index with the model")
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        with tarfile.open(TARBALL) as archive:
            archive.extractall(scratch, filter="data")
        print(f"unpacked the archive in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        articles, problems = load_articles([Path(scratch)])
        seconds = time.perf_counter() - started
        paragraphs = sum(len(a.paragraphs) for a in articles)
        print(f"parsed {len(articles):,} articles ({paragraphs:,} paragraphs, "
              f"{len(problems)} files skipped) in {seconds:.1f} s")  # fmt: skip

        started = time.perf_counter()
        chunked = [chunk_article(a, encoder.count_tokens, encoder.max_tokens) for a in articles]
        seconds = time.perf_counter() - started
        passages = sum(len(c) for c in chunked)
        sentences = sum(len(p.sentences) for c in chunked for p in c)
        print(f"chunked into {passages:,} passages and {sentences:,} sentences in {seconds:.1f} s")

        subset = sorted(articles, key=lambda a: a.id)[: args.docs]
        summary = build_from_articles(subset, open_store(Path(scratch) / "index"), encoder)
        rate = summary.encoded / summary.seconds
        print(
            f"indexed {summary.articles:,} articles ({summary.passages:,} passages, "
            f"{summary.encoded:,} texts) in {summary.seconds:.1f} s: {rate:.0f} texts/s"
        )
        print(f"the whole archive would take about {(passages + sentences) / rate / 3600:.1f} h "
              "to encode on this machine")  # fmt: skip

        engine = Engine(open_store(Path(scratch) / "index"), encoder)
        engine.load()
        questions = [json.loads(line)["text"] for line in QUESTIONS.open()][: args.questions]
        timings = []
        for question in questions:
            started = time.perf_counter()
            engine.search(question)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        print(f"{len(timings)} questions: median {statistics.median(timings):.0f} ms, "
              f"p95 {timings[int(len(timings) * 0.95) - 1]:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
