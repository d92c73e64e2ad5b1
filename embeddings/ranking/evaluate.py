"""Retrieval quality on a BEIR-format folder, through the same encoder, index and ranking.

Each corpus entry becomes one article; when the engine splits a long one, its passages map
back to the entry's id and count once. Metrics are over unique entries in ranked order.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import ParseError
from embeddings.index.backend import IndexStore
from embeddings.index.indexer import ProgressCallback, build_from_articles
from embeddings.index.stores import open_store
from embeddings.ingest.articles import Article, clean_inline
from embeddings.models.encoder import Encoder
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.ranking.search import Searcher

_SEED = 20261128
_DEPTH = 10


@dataclass(frozen=True, slots=True)
class BeirSet:
    corpus: list[Article]
    queries: dict[str, str]  # id → text
    qrels: dict[str, set[str]]  # query id → relevant corpus ids (empty: unanswerable)


def _json_lines(path: Path) -> Iterator[dict[str, object]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as error:
                        raise ParseError(f"{path}:{line_no}: invalid JSON ({error.msg})") from None
    except FileNotFoundError:
        raise ParseError(f"{path} is missing: a BEIR folder has corpus.jsonl, queries.jsonl "
                         "and qrels/test.tsv") from None  # fmt: skip


def load_beir(folder: Path) -> BeirSet:
    corpus = [
        Article(
            id=str(row["_id"]),
            title=clean_inline(str(row.get("title") or "")),
            paragraphs=(clean_inline(str(row["text"])),),
        )
        for row in _json_lines(folder / "corpus.jsonl")
        if clean_inline(str(row.get("text") or ""))
    ]
    queries = {str(row["_id"]): str(row["text"]) for row in _json_lines(folder / "queries.jsonl")}
    qrels: dict[str, set[str]] = {}
    qrels_path = folder / "qrels" / "test.tsv"
    try:
        lines = qrels_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ParseError(f"{qrels_path} is missing") from None
    for line in lines[1:]:  # header: query-id corpus-id score
        parts = line.split("\t")
        if len(parts) >= 3 and float(parts[2]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[1])
    return BeirSet(corpus, queries, qrels)


def sample_queries(data: BeirSet, limit: int | None) -> list[str]:
    """Query ids with judgements, in file order; a fixed seeded sample when limited."""
    ids = [q for q in data.queries if q in data.qrels]
    if limit is not None and limit < len(ids):
        ids = sorted(random.Random(_SEED).sample(ids, limit), key=ids.index)
    return ids


def metrics(ranked: list[list[str]], relevant: list[set[str]]) -> dict[str, float]:
    """hit@1/5/10, MRR@10 and nDCG@10 (binary gains) averaged over queries."""
    totals = {"hit@1": 0.0, "hit@5": 0.0, "hit@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    for docs, gold in zip(ranked, relevant, strict=True):
        top = docs[:_DEPTH]
        ranks = [i for i, doc in enumerate(top) if doc in gold]
        for k in (1, 5, 10):
            totals[f"hit@{k}"] += float(any(r < k for r in ranks))
        totals["mrr@10"] += 1.0 / (ranks[0] + 1) if ranks else 0.0
        dcg = sum(1.0 / math.log2(r + 2) for r in ranks)
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(len(gold), _DEPTH)))
        totals["ndcg@10"] += dcg / ideal if ideal else 0.0
    count = max(len(ranked), 1)
    return {key: round(value / count, 4) for key, value in totals.items()}


def unique_articles(searcher: Searcher, question: str, depth: int = _DEPTH) -> list[str]:
    """Article ids of the ranked results, each once, at least `depth` deep when possible."""
    answer = searcher.search(question, top=depth * 2)
    seen: list[str] = []
    for result in answer.results:
        if result.article_id not in seen:
            seen.append(result.article_id)
    return seen[:depth]


def evaluate(
    folder: Path,
    encoder: Encoder,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    on_query: Callable[[int, int], None] | None = None,
    multilingual: MultilingualEncoder | None = None,
    keep_index: IndexStore | None = None,
) -> dict[str, float]:
    """Build an index of the folder's corpus (in a temporary directory, or in `keep_index`,
    where a second run reuses its vectors), run its queries, return the metrics."""
    data = load_beir(folder)
    query_ids = sample_queries(data, limit)
    with tempfile.TemporaryDirectory(prefix="newsdesk-eval-") as scratch:
        store = keep_index or open_store(Path(scratch))
        build_from_articles(data.corpus, store, encoder, progress, multilingual=multilingual)
        generation = store.open_current(encoder.name, encoder.dimension)
        searcher = Searcher(generation, encoder, multilingual=multilingual)
        ranked: list[list[str]] = []
        timings: list[float] = []
        for done, query_id in enumerate(query_ids, start=1):
            started = time.perf_counter()
            ranked.append(unique_articles(searcher, data.queries[query_id]))
            timings.append((time.perf_counter() - started) * 1000.0)
            if on_query:
                on_query(done, len(query_ids))
        generation.close()
    result = metrics(ranked, [data.qrels[q] for q in query_ids])
    result["queries"] = len(query_ids)
    result["ms_per_query"] = round(statistics.median(timings), 1) if timings else 0.0
    return result
