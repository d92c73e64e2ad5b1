"""Choose the newest/earliest preference (`time_filter.PREFERENCE`) on half the questions that
ask for one, report it on the other half.

    python -m benchmarks.fit_recency ../shared/eval/news-time-dev INDEX

INDEX is an index directory of the set's corpus (e.g. `newsdesk eval ... --keep-index INDEX
--dates-from data` builds one with the articles' dates). Questions are split by crc32 of their
id (as benchmarks.fit_fusion splits); only those whose time expression is a preference
("latest", "the first time") move with the weight. The chosen weight is the smallest with the
best mean reciprocal rank on the fit half (hit@1 alone ties on so few questions).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.fit_fusion import half
from embeddings.index.stores import open_store
from embeddings.models.encoder import load_encoder
from embeddings.ranking import time_filter
from embeddings.ranking.evaluate import load_beir, ranked_passages
from embeddings.ranking.search import Searcher
from embeddings.text.when import read_time

WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("beir_dir", type=Path)
    parser.add_argument("index", type=Path)
    parser.add_argument(
        "--fit-half",
        choices=("fit", "held-out"),
        default="fit",
        help="the crc32 half to choose on (when the other one does not move with the weight)",
    )
    args = parser.parse_args()
    data = load_beir(args.beir_dir)
    encoder = load_encoder()
    generation = open_store(args.index).open_current(encoder.name, encoder.dimension)
    searcher = Searcher(generation, encoder)
    today = time_filter.archive_today(searcher)
    asked = [q for q in data.queries if q in data.qrels]
    preferring = [q for q in asked if (s := read_time(data.queries[q], today).scope) and s.order]
    ranks: dict[float, dict[str, list[float]]] = {}  # reciprocal rank of the first hit
    for weight in WEIGHTS:
        time_filter.PREFERENCE = weight
        ranks[weight] = {"fit": [], "held-out": []}
        for q in preferring:
            ranked = ranked_passages(data, searcher.search(data.queries[q], top=10).results)
            first = next((i for i, ids in enumerate(ranked) if ids & data.qrels[q]), None)
            ranks[weight][half(q)].append(0.0 if first is None else 1.0 / (first + 1))
    best = max(WEIGHTS, key=lambda w: (sum(ranks[w][args.fit_half]), -w))
    for weight in WEIGHTS:
        cells = "  ".join(
            f"{name}: hit@1 {sum(r == 1.0 for r in rr)}/{len(rr)}, MRR {sum(rr) / len(rr):.3f}"
            for name, rr in ranks[weight].items()
        )
        print(f"{weight:>4}  {cells}{'  <- chosen' if weight == best else ''}")


if __name__ == "__main__":
    main()
