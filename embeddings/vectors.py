"""Inner-product search over unit vectors. The only module that imports FAISS.

The index type follows the size. Below `HNSW_FROM` rows a flat index: exact, and one query on
one thread costs about 0.3 ms at 10k rows and 7.6 ms at 100k, but 61 ms at 1M (it reads every
row). From there on an HNSW graph over the same flat storage (IndexHNSWFlat): about a
millisecond a query at recall@10 near 0.96 (benchmarks/scale_suite.py measures it), at the
price of a slower build (the graph is rebuilt with every generation) and about 17 % more memory
(32 links a row). Either way the stored rows are the copy of each vector that the ranker
scores and that incremental builds reuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexIncompatibleError, MissingDependencyError

try:
    import faiss
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"FAISS is not installed ({_error}); pip install faiss-cpu"
    ) from None

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

HNSW_FROM = 100_000  # rows; below this flat search is exact and fast enough
HNSW_LINKS = 32  # M: neighbours per node
# efConstruction. The graph's quality matters more than its build time here: on 6,651
# briefing sentences efSearch 512 found 0.84 of the exact top 10 over a graph built at 64,
# 0.93 at 200 and 0.95 at 400 (questions lie far from every sentence, where HNSW is weakest).
HNSW_BUILD_DEPTH = 200
# efSearch (raised to k when k is larger): 1024 found 0.965 of the exact top 10 on those
# sentences, 128 only 0.58 (graph built at 200).
HNSW_SEARCH_DEPTH = 1024
_ALL_THREADS = faiss.omp_get_max_threads()  # before anything here narrows it for one thread


class VectorIndex:
    """Row i holds the vector of item i (a passage or a sentence)."""

    def __init__(self, index: Any) -> None:
        self._index = index
        self.dimension = int(index.d)
        self.kind = "hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat"
        storage: Any = faiss.downcast_index(index.storage) if self.kind == "hnsw" else index
        # A zero-copy view of the stored rows: scoring a few hundred chosen rows against the
        # question is a small matrix product, cheaper than asking FAISS for each.
        size = int(index.ntotal) * self.dimension
        flat = faiss.rev_swig_ptr(storage.get_xb(), size) if size else np.zeros(0, np.float32)
        self.matrix: Matrix = np.asarray(flat, dtype=np.float32).reshape(-1, self.dimension)

    @classmethod
    def from_vectors(
        cls, vectors: Matrix, dimension: int, hnsw_from: int | None = None
    ) -> VectorIndex:
        """A flat index below `hnsw_from` (default HNSW_FROM) rows, an HNSW graph from there."""
        index: Any
        if len(vectors) >= (HNSW_FROM if hnsw_from is None else hnsw_from):
            index = faiss.IndexHNSWFlat(dimension, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_BUILD_DEPTH
            index.hnsw.efSearch = HNSW_SEARCH_DEPTH
        else:
            index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            faiss.omp_set_num_threads(_ALL_THREADS)  # a search on this thread may have set 1
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path, expected_rows: int, dimension: int) -> VectorIndex:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1][:120]
            raise IndexIncompatibleError(f"{path.name} cannot be read ({reason})") from None
        inner_product = index.metric_type == faiss.METRIC_INNER_PRODUCT
        if not isinstance(index, faiss.IndexFlatIP | faiss.IndexHNSWFlat) or not inner_product:
            raise IndexIncompatibleError(f"{path.name} is not an inner-product index")
        if index.ntotal != expected_rows or index.d != dimension:
            raise IndexIncompatibleError(
                f"{path.name} holds {index.ntotal}×{index.d} vectors, "
                f"the manifest says {expected_rows}×{dimension}"
            )
        return cls(index)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def rows(self, ids: Ids) -> Matrix:
        """The stored vectors of `ids` (a copy), in that order."""
        return self.matrix[ids]

    def all(self) -> Matrix:
        return self.matrix

    def search(self, query: Matrix, k: int, depth: int | None = None) -> tuple[Matrix, Ids]:
        """Top-k (scores, rows) for one query vector; rows are -1 past the end. `depth` is
        HNSW's efSearch (default HNSW_SEARCH_DEPTH); a flat index ignores it."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        # One query is faster on one OpenMP thread than on several (the threads' start-up
        # costs more than they save); the setting is per calling thread, so builds elsewhere
        # keep all cores.
        faiss.omp_set_num_threads(1)
        vector = query.reshape(1, -1).astype(np.float32)
        if self.kind == "hnsw":
            # Per call, not on the index: concurrent searches must not race on a setting.
            parameters = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            parameters.efSearch = max(depth or HNSW_SEARCH_DEPTH, k)
            scores, rows = self._index.search(vector, k, params=parameters)
        else:
            scores, rows = self._index.search(vector, k)
        return scores[0], rows[0]
