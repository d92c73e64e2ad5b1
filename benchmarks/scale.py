"""The large archive: parse and chunk all 14,397 briefing-room files, index a slice of them
with the real model, and time questions against that index.

    python -m benchmarks.scale --archive PATH --eval-dir DIR [--docs 300] [--questions 50]

`--archive`: the archive's .tar.xz (e.g. ../shared/corpora/wh-briefings.tar.xz) or its folder;
the questions are a seeded sample of the news-dev and squad-dev queries in `--eval-dir` (e.g.
../shared/eval).

Prints parse and chunk throughput for the whole archive, encoding throughput and build time
for the slice, question latency (median and p95) on it, and the encoding time the whole
archive would take at the measured rate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import percentiles, questions, timed_each, unpacked
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_from_articles, load_articles
from embeddings.index.stores import open_store
from embeddings.text.chunking import chunk_article


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, required=True, help=".tar.xz or its folder")
    parser.add_argument(
        "--eval-dir", type=Path, required=True, help="holds news-dev and squad-dev (questions)"
    )
    parser.add_argument("--docs", type=int, default=300, help="articles to index with the model")
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder()
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpacked(args.archive, Path(scratch) / "archive")
        started = time.perf_counter()
        articles, problems = load_articles([folder])
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
        timings = timed_each(engine.search, questions(args.eval_dir, args.questions))[1]
        p50, p95 = percentiles(timings, 50, 95)
        print(f"{len(timings)} questions: median {p50:.0f} ms, p95 {p95:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
