"""Recall@10 against exact search, and ms per query on one thread, of the approximate vector
indexes considered for large archives, on real vectors.

    python benchmarks/recall.py VECTORS.npy QUESTIONS.npy [--questions 300] [--hnsw]

VECTORS.npy holds unit row vectors (e.g. briefing sentences), QUESTIONS.npy unit question
vectors of the same model. Recall counts a found row as right when it scores at least the
exact 10th score (the archive repeats sentences; among equal scores either row is exact).
Each index is asked for 100 results, as the engine asks the sentence index.

Compared: the engine's index (embeddings.index.directory.vectors.VectorIndex: 4-bit
product-quantizer codes
scanned in full with FAISS fast scan, candidates re-scored exactly on the float32 rows),
IVF-Flat, and with --hnsw the HNSW graph the engine used before (M 32, efConstruction 200;
a minute or more to build on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import faiss
import numpy as np

from embeddings.index.directory.vectors import VectorIndex
from embeddings.index.stores import open_store

K = 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vectors")
    parser.add_argument("questions")
    parser.add_argument("--questions-used", type=int, default=300)
    parser.add_argument("--hnsw", action="store_true")
    args = parser.parse_args()
    rows = np.ascontiguousarray(np.load(args.vectors), dtype=np.float32)
    queries = np.ascontiguousarray(np.load(args.questions)[: args.questions_used], np.float32)
    n, d = rows.shape
    flat = faiss.IndexFlatIP(d)
    flat.add(rows)
    tenth = flat.search(queries, 10)[0][:, 9]
    print(f"{n:,} rows × {d}; {len(queries)} questions")
    measure("flat (exact)", flat, None, queries, tenth)
    started = time.perf_counter()
    engine_index = VectorIndex.from_vectors(rows, d, approximate_from=0)  # the engine's own
    print(f"  (PQ index built in {time.perf_counter() - started:.1f} s)")
    for factor in (4, 10, 20):
        measure(f"PQ{d // 4}x4 fast scan + exact re-scoring of {factor}×k (engine)",
                Engine(open_store(engine_index), factor), None, queries, tenth)  # fmt: skip
    quantizer = faiss.IndexFlatIP(d)  # kept in a name: the IVF index does not own it
    ivf = faiss.IndexIVFFlat(quantizer, d, 1024, faiss.METRIC_INNER_PRODUCT)
    faiss.omp_set_num_threads(2)
    ivf.train(rows[np.random.default_rng(0).choice(n, min(n, 61_440), replace=False)])
    ivf.add(rows)
    for probes in (32, 128):
        measure(f"IVF-Flat 1024 lists, nprobe {probes}", ivf,
                faiss.SearchParametersIVF(nprobe=probes), queries, tenth)  # fmt: skip
    if args.hnsw:
        faiss.omp_set_num_threads(2)
        graph = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = 200
        started = time.perf_counter()
        graph.add(rows)
        print(f"  (HNSW built in {time.perf_counter() - started:.0f} s)")
        for depth in (512, 1024, 2048):
            parameters = faiss.SearchParametersHNSW()
            parameters.efSearch = depth
            measure(f"HNSW M32 efSearch {depth}", graph, parameters, queries, tenth)
    return 0


class Engine:
    """The engine's VectorIndex, searched the way `measure` searches a FAISS index."""

    def __init__(self, index: VectorIndex, depth: int) -> None:
        self.index, self.depth = index, depth

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, rows = self.index.search(vector[0], k, self.depth)
        return scores[None], rows[None]


def measure(name: str, index: Any, parameters: Any, queries: np.ndarray, tenth: Any) -> None:
    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    found = [
        (index.search(q[None], K, params=parameters) if parameters else index.search(q[None], K))[
            0
        ][0][:10]
        for q in queries
    ]
    ms = (time.perf_counter() - started) / len(queries) * 1000
    recall = np.mean([np.sum(f >= t - 1e-6) / 10 for f, t in zip(found, tenth, strict=True)])
    print(f"{name:<58} recall@10 {recall:.4f}  {ms:6.2f} ms/query", flush=True)


if __name__ == "__main__":
    sys.exit(main())
