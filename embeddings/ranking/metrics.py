"""Ranking quality over ranked ids: what `newsdesk eval` reports and the benchmarks compare.

Imports nothing but the standard library, so that benchmarks/reranker.py can load this file on
a GPU machine that has none of newsdesk's dependencies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

DEPTH = 10  # results a question is judged on
T = TypeVar("T")


def distinct(ranked: Iterable[T], depth: int = DEPTH) -> list[T]:
    """Each item once, in ranked order, at most `depth` of them: several passages of one
    article count as that article, where it first appears."""
    seen: list[T] = []
    for item in ranked:
        if item not in seen:
            seen.append(item)
            if len(seen) == depth:
                break
    return seen


def metrics(
    ranked: Sequence[Sequence[str | frozenset[str]]], relevant: Sequence[set[str]]
) -> dict[str, float]:
    """hit@1/5/10, MRR@10 and nDCG@10 (binary gains) averaged over queries. A ranked item is
    one id or the set of ids one passage holds (a hit when any of them is relevant)."""
    totals = {"hit@1": 0.0, "hit@5": 0.0, "hit@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    for docs, gold in zip(ranked, relevant, strict=True):
        top = [{doc} if isinstance(doc, str) else doc for doc in docs[:DEPTH]]
        ranks = [i for i, doc in enumerate(top) if doc & gold]
        for k in (1, 5, 10):
            totals[f"hit@{k}"] += float(any(r < k for r in ranks))
        totals["mrr@10"] += 1.0 / (ranks[0] + 1) if ranks else 0.0
        dcg = sum(1.0 / math.log2(r + 2) for r in ranks)
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(len(gold), DEPTH)))
        # Capped: one passage may hold several relevant paragraphs.
        totals["ndcg@10"] += min(dcg / ideal, 1.0) if ideal else 0.0
    count = max(len(ranked), 1)
    return {key: round(value / count, 4) for key, value in totals.items()}
