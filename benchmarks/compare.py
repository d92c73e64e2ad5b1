"""newsdesk's ranking beside the usual baselines, measured in one run on the same index.

    python -m benchmarks.compare --sets DIR[,DIR…] [--limit N] [--keep-index DIR]
        [--no-multilingual]

For each BEIR folder in `--sets` (e.g. ../shared/eval/squad-dev) it builds one index (MiniLM
passages and sentences, BM25, multilingual passages) and ranks every judged question four ways:

- dense: the question's MiniLM vector against the (title-aware) passage vectors, FAISS flat;
- BM25: the engine's own BM25 (Lucene's formula) over title + passage, stemmed;
- RRF: reciprocal rank fusion (k = 60) of those two lists;
- newsdesk, MiniLM only: the engine's ranking without the multilingual model (an index built
  with NEWSDESK_MULTILINGUAL=false, as the first `newsdesk ask` builds it);
- newsdesk: the engine's own ranking (`Searcher.rank`), which is what `newsdesk eval` reports.

It prints one table (hit@1, hit@5, hit@10, MRR@10) per set, and per query kind when the
set's queries have kinds; a hit is a returned passage holding a relevant corpus entry (each
passage counted once; `doc#n` entries are paragraphs of one article, as in `newsdesk eval`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.common import timed_each
from embeddings import SentenceTransformerEncoder
from embeddings.index.indexer import build_from_articles
from embeddings.index.lexical import tokenize
from embeddings.index.stores import open_store
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.ranking.evaluate import load_beir, sample_queries
from embeddings.ranking.metrics import DEPTH, distinct, metrics
from embeddings.ranking.search import Searcher

RRF_K = 60


def rankers(searcher: Searcher, english: Searcher) -> dict[str, Callable[[str], list[int]]]:
    g = searcher.generation
    depth = DEPTH * 5

    def dense(question: str) -> list[int]:
        vector = searcher.encoder.encode([question])[0]
        return [int(r) for r in g.passages.search(vector, depth)[1] if r >= 0]

    def bm25(question: str) -> list[int]:
        scores = g.lexical.scores(tokenize(question))
        top = np.argsort(-scores, kind="stable")[:depth]
        return [int(r) for r in top if scores[r] > 0]

    def rrf(question: str) -> list[int]:
        fused: dict[int, float] = {}
        for ranked in (dense(question), bm25(question)):
            for rank, row in enumerate(ranked):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(fused, key=lambda row: -fused[row])

    def ranked_by(engine: Searcher) -> Callable[[str], list[int]]:
        return lambda question: [int(r) for r in engine.rank(question).rows[:depth]]

    return {
        "dense": dense,
        "BM25": bm25,
        "RRF(dense, BM25)": rrf,
        "newsdesk, MiniLM only": ranked_by(english),
        "newsdesk": ranked_by(searcher),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", required=True, help="BEIR folders, comma-separated (one table each)"
    )
    parser.add_argument("--limit", type=int, help="seeded sample of questions per set")
    parser.add_argument("--no-multilingual", action="store_true")
    parser.add_argument(
        "--keep-index", type=Path, metavar="DIR", help="build indexes under DIR, reuse them later"
    )
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder()
    multilingual = None if args.no_multilingual else MultilingualEncoder()
    built: dict[tuple[str, ...], Path] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for folder in (Path(f) for f in args.sets.split(",")):
            name = folder.name
            data = load_beir(folder)
            key = tuple(a.id for a in data.corpus)
            if key not in built:  # XQuAD asks about the SQuAD paragraphs: one index serves both
                built[key] = (args.keep_index or Path(scratch)) / name
                started = time.perf_counter()
                build_from_articles(
                    data.corpus, open_store(built[key]), encoder, multilingual=multilingual
                )
                print(f"{name}: index built in {time.perf_counter() - started:.0f} s", flush=True)
            generation = open_store(built[key]).open_current(encoder.name, encoder.dimension)
            searcher = Searcher(generation, encoder, multilingual=multilingual)
            english = Searcher(generation, encoder)
            stored = generation.passage_rows(range(len(generation.passages)))
            held = [
                data.corpus_ids(stored[r].article_id, stored[r].text[searcher.answer_offset(r) :])
                for r in range(len(stored))
            ]
            ids = sample_queries(data, args.limit)
            kinds = {"all": ids} | {
                kind: [q for q in ids if data.kinds.get(q) == kind]
                for kind in sorted({data.kinds[q] for q in ids if q in data.kinds})
            }
            print(f"\n{name}: {len(ids)} questions")
            print(f"{'ranking':<24}" + "".join(f"{k + ' hit@1/5':>22}" for k in kinds)
                  + f"{'MRR@10':>8}{'ms/q':>8}")  # fmt: skip
            for label, rank in rankers(searcher, english).items():
                rows, timings = timed_each(rank, (data.queries[q] for q in ids))
                ranked = dict(zip(ids, ([h for h in distinct(held[r] for r in found) if h]
                                        for found in rows), strict=True))  # fmt: skip
                cells = []
                for kind_ids in kinds.values():
                    m = metrics([ranked[q] for q in kind_ids], [data.qrels[q] for q in kind_ids])
                    cells.append(f"{m['hit@1']:.3f} / {m['hit@5']:.3f} ({len(kind_ids)})")
                mrr = metrics(list(ranked.values()), [data.qrels[q] for q in ids])["mrr@10"]
                ms = sum(timings) / max(len(ids), 1)
                print(f"{label:<24}" + "".join(f"{c:>22}" for c in cells)
                      + f"{mrr:>8.3f}{ms:>8.1f}", flush=True)  # fmt: skip
            generation.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
