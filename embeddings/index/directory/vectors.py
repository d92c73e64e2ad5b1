"""Inner-product search over unit vectors. The only module that imports FAISS.

The index type follows the size. Below `APPROXIMATE_FROM` rows a flat index: exact, and one
query on one thread costs about 0.3 ms at 10k rows, 7.6 ms at 100k and 61 ms at 1M (it
reads every row). From there on a scan of product-quantized codes (FAISS fast scan: 4 bits per
4 dimensions, 1/32 of the float32 bytes) whose best `RESCORE` × k candidates (at least
`MIN_RESCORED`) are re-scored exactly on the stored float32 rows (IndexRefineFlat). It
replaced an HNSW graph: questions lie far from every sentence, where HNSW's greedy walk misses
true neighbours (recall@10 0.915 at efSearch 1024 on 171,604 briefing sentences), while a scan
of all codes misses nothing the coarse distance ranks in the top 1,000 (0.997 there, 0.36 ms a
query; README "Speed and scale"). It also builds in seconds, where the graph took minutes.

Either way the stored float32 rows are the copy of each vector that the ranker scores and that
incremental builds reuse; a loaded index memory-maps them, so a process starts without reading
them and holds in memory only the rows its searches touch. `SegmentedIndex` reads a
generation's base and delta segments as one index, leaving out the rows of articles changed or
deleted since the base was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexIncompatibleError, MissingDependencyError
from embeddings.index.backend import (  # from this many rows, quantized codes
    APPROXIMATE_FROM as APPROXIMATE_FROM,
)

try:
    import faiss
except ImportError as _error:  # pragma: no cover - exercised only on a broken install
    raise MissingDependencyError(
        f"FAISS is not installed ({_error}); pip install faiss-cpu"
    ) from None

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]

DIMENSIONS_PER_CODE = 4  # one 4-bit product-quantizer code per 4 dimensions (96 for 384)
# Candidates re-scored exactly per result asked for (k_factor). On 171,604 briefing sentences
# and 300 questions, recall@10 against flat: 4 → 0.988, 10 → 0.997, 20 → 0.999.
RESCORE = 10
# ... and never fewer than this many in all: a search for the top 10 alone re-scoring only 100
# found 0.92 of the true top 10 on briefing sentences (benchmarks/backends.py), and re-scoring
# a thousand rows costs well under a millisecond.
MIN_RESCORED = 1_000
_TRAINING_ROWS = 20_000  # a seeded sample: 16 centroids per sub-quantizer need few points
_ALL_THREADS = faiss.omp_get_max_threads()  # before anything here narrows it for one thread
# Map the float32 rows of a loaded index instead of reading them (FAISS releases without the
# flag read them, slower to start, same answers).
_MAP_ROWS = (
    faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if hasattr(faiss, "IO_FLAG_MMAP_IFC") else 0
)


class VectorIndex:
    """Row i holds the vector of item i (a passage or a sentence)."""

    def __init__(self, index: Any) -> None:
        self._index = index
        self.dimension = int(index.d)
        self.kind = "pq-rescore" if isinstance(index, faiss.IndexRefineFlat) else "flat"
        storage: Any = faiss.downcast_index(index.refine_index) if self.kind != "flat" else index
        # A zero-copy view of the stored rows: scoring a few hundred chosen rows against the
        # question is a small matrix product, cheaper than asking FAISS for each.
        size = int(index.ntotal) * self.dimension
        flat = faiss.rev_swig_ptr(storage.get_xb(), size) if size else np.zeros(0, np.float32)
        self.matrix: Matrix = np.asarray(flat, dtype=np.float32).reshape(-1, self.dimension)
        self.matrix.flags.writeable = False  # possibly a read-only mapping of the file

    @classmethod
    def from_vectors(
        cls, vectors: Matrix, dimension: int, approximate_from: int | None = None
    ) -> VectorIndex:
        """A flat index below `approximate_from` (default APPROXIMATE_FROM) rows, quantized
        codes with exact re-scoring from there (when the dimension divides into codes)."""
        threshold = APPROXIMATE_FROM if approximate_from is None else approximate_from
        faiss.omp_set_num_threads(_ALL_THREADS)  # a search on this thread may have set 1
        index: Any
        if len(vectors) >= threshold and dimension % DIMENSIONS_PER_CODE == 0 and len(vectors):
            coarse = faiss.IndexPQFastScan(
                dimension, dimension // DIMENSIONS_PER_CODE, 4, faiss.METRIC_INNER_PRODUCT
            )
            coarse.pq.cp.min_points_per_centroid = 1  # small test indexes: no warning
            rng = np.random.default_rng(20261128)  # the same rows, the same codes
            sample = rng.choice(len(vectors), min(len(vectors), _TRAINING_ROWS), replace=False)
            training = np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32)
            # k-means wants at least as many points as its 16 centroids: a tiny index (tests)
            # repeats its rows; re-scoring is exact whatever the codes.
            coarse.train(np.resize(training, (max(len(training), 256), dimension)))
            index = faiss.IndexRefineFlat(coarse)
        else:
            index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path, expected_rows: int, dimension: int) -> VectorIndex:
        """The index in `path`, its float32 rows memory-mapped, not read: a process starts
        without reading gigabytes of vectors, and the operating system pages in the rows
        that searches touch (all of them for a flat index, the re-scored candidates for
        quantized codes). A generation's files are never written again once complete."""
        try:
            index = faiss.read_index(str(path), _MAP_ROWS)
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1][:120]
            raise IndexIncompatibleError(f"{path.name} cannot be read ({reason})") from None
        inner_product = index.metric_type == faiss.METRIC_INNER_PRODUCT
        if isinstance(index, faiss.IndexRefineFlat):
            coarse = faiss.downcast_index(index.base_index)
            inner_product = inner_product and isinstance(coarse, faiss.IndexPQFastScan)
        elif not isinstance(index, faiss.IndexFlatIP):
            inner_product = False
        if not inner_product:
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
        """Top-k (scores, rows) for one query vector. `depth` is the number of candidates
        re-scored exactly per result (default RESCORE; MIN_RESCORED in all at least); a flat
        index ignores it."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        # One query is faster on one OpenMP thread than on several (the threads' start-up
        # costs more than they save); the setting is per calling thread, so builds elsewhere
        # keep all cores.
        faiss.omp_set_num_threads(1)
        vector = query.reshape(1, -1).astype(np.float32)
        if self.kind != "flat":
            # Per call, not on the index: concurrent searches must not race on a setting.
            parameters = faiss.IndexRefineSearchParameters()
            parameters.k_factor = float(max(depth or RESCORE, -(-MIN_RESCORED // k)))
            scores, rows = self._index.search(vector, k, params=parameters)
        else:
            scores, rows = self._index.search(vector, k)
        return scores[0], rows[0]


class RowMatrix:
    """The stored rows of several indexes as one matrix that can be indexed by row numbers
    (numbered on from one part to the next), without copying the parts together."""

    def __init__(self, parts: Sequence[Matrix], dimension: int) -> None:
        self._parts = list(parts)
        self._starts = np.cumsum([0, *(len(p) for p in self._parts)]).astype(np.int64)
        self.shape = (int(self._starts[-1]), dimension)
        self.nbytes = sum(int(p.nbytes) for p in self._parts)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Ids) -> Matrix:
        rows = np.asarray(rows, dtype=np.int64)
        if len(self._parts) == 1:
            return self._parts[0][rows]
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        part = np.searchsorted(self._starts, rows, side="right") - 1
        for number, matrix in enumerate(self._parts):
            chosen = np.flatnonzero(part == number)
            if len(chosen):
                out[chosen] = matrix[rows[chosen] - self._starts[number]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> Matrix:
        whole = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        return whole if dtype is None else whole.astype(dtype)


class SegmentedIndex:
    """Indexes searched as one, rows numbered on from one to the next, minus `dead` rows.

    Dead rows are left out by asking each part for as many more results as it holds dead
    rows: exact for flat parts, and the delta segment that a build may write (bounded by the
    indexer's compaction limit) keeps that number small.
    """

    def __init__(self, parts: Sequence[VectorIndex], dead: Ids) -> None:
        self.parts = list(parts)
        self.dimension = self.parts[0].dimension
        self.kind = self.parts[0].kind
        self._starts = np.cumsum([0, *(len(p) for p in self.parts)]).astype(np.int64)
        self._dead = np.unique(np.asarray(dead, dtype=np.int64))
        self.matrix = RowMatrix([p.matrix for p in self.parts], self.dimension)

    def __len__(self) -> int:
        """Rows, dead ones included: row numbers run up to this."""
        return int(self._starts[-1])

    def rows(self, ids: Ids) -> Matrix:
        """The stored vectors of `ids` (a copy), in that order."""
        return self.matrix[ids]

    def all(self) -> Matrix:
        return np.asarray(self.matrix)

    def search(self, query: Matrix, k: int, depth: int | None = None) -> tuple[Matrix, Ids]:
        """Top-k (scores, rows) of the live rows; fewer when fewer live rows exist."""
        found_scores, found_rows = [], []
        for number, part in enumerate(self.parts):
            start, end = self._starts[number], self._starts[number + 1]
            dead = self._dead[(self._dead >= start) & (self._dead < end)]
            scores, rows = part.search(query, k + len(dead), depth)
            keep = rows >= 0
            scores, rows = scores[keep], rows[keep] + start
            if len(dead):
                alive = ~np.isin(rows, dead)
                scores, rows = scores[alive], rows[alive]
            found_scores.append(scores[:k])
            found_rows.append(rows[:k])
        scores, rows = np.concatenate(found_scores), np.concatenate(found_rows)
        if len(self.parts) > 1:
            order = np.argsort(-scores, kind="stable")[:k]
            scores, rows = scores[order], rows[order]
        return scores.astype(np.float32), rows.astype(np.int64)
