"""Retrieval quality on a BEIR-format folder, through the same encoder, index and ranking.

Each corpus entry becomes one article; when the engine splits a long one, its passages map
back to the entry's id and count once. Metrics are over unique entries in ranked order.
"""

from __future__ import annotations

import json
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
from embeddings.ranking.metrics import DEPTH, distinct, metrics
from embeddings.ranking.search import Searcher

_SEED = 20261128


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


def unique_articles(searcher: Searcher, question: str, depth: int = DEPTH) -> list[str]:
    """Article ids of the ranked results, each once, at least `depth` deep when possible."""
    answer = searcher.search(question, top=depth * 2)
    return distinct((result.article_id for result in answer.results), depth)


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
