"""Fit the speaker weight of the fusion honestly: choose it on one half of the dev questions
(ids hashed into halves), report on the other.

    HF_HUB_OFFLINE=1 NEWSDESK_MULTILINGUAL=false python -m benchmarks.fit_speaker \
        --index /tmp/said-index ../shared/eval/news-said-dev ../shared/eval/news-dev

The index is the one `newsdesk eval --keep-index` built for the folders' (shared) corpus.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import zlib
from pathlib import Path

from embeddings.index.stores import open_store
from embeddings.models.encoder import load_encoder
from embeddings.ranking.evaluate import BeirSet, holds_span, load_beir, ranked_passages
from embeddings.ranking.metrics import metrics
from embeddings.ranking.search import DEFAULT_WEIGHTS, Searcher

_SHOWN = ("hit@1", "hit@5", "sentence@1", "n")
GRID = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0)


def half(query_id: str) -> str:
    return "fit" if zlib.crc32(query_id.encode()) % 2 == 0 else "held-out"


def score(searcher: Searcher, data: BeirSet, ids: list[str]) -> dict[str, float]:
    ranked, hits = [], []
    for q in ids:
        answer = searcher.search(data.queries[q], top=20)
        ranked.append(ranked_passages(data, answer.results))
        spans = data.answer_spans.get(q)
        if spans:
            hits.append(
                holds_span(answer.results[0].answer_sentence if answer.results else "", spans)
            )
    m = metrics(ranked, [data.qrels[q] for q in ids])
    m["sentence@1"] = round(sum(hits) / len(hits), 4) if hits else float("nan")
    m["n"] = len(ids)
    return m


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    encoder = load_encoder()
    generation = open_store(args.index).open_current(encoder.name, encoder.dimension)
    sets = [load_beir(f) for f in args.folders]
    for weight in GRID:
        weights = dataclasses.replace(DEFAULT_WEIGHTS, speaker=weight)
        searcher = Searcher(generation, encoder, weights=weights)
        for folder, data in zip(args.folders, sets, strict=True):
            ids = [q for q in data.queries if q in data.qrels]
            for part, kind in [(p, k) for p in ("fit", "held-out") for k in ("all", "said")]:
                chosen = [q for q in ids if half(q) == part and kind in {"all", data.kinds.get(q)}]
                if not chosen:
                    continue
                m = score(searcher, data, chosen)
                shown = " ".join(f"{k}={v:.3f}" for k, v in m.items() if k in _SHOWN)
                print(
                    f"speaker={weight:<5} {folder.name:<14} {part:<9} {kind:<5} {shown}", flush=True
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
