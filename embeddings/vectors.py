"""Exact inner-product search over unit vectors. The only module that imports FAISS.

A flat index is exact and, on CPU, answers in milliseconds up to a few hundred thousand
passages; the rows are also the stored copy of each vector, which incremental builds reuse.
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


class VectorIndex:
    """Row i holds the vector of item i (a passage or a sentence)."""

    def __init__(self, index: Any) -> None:
        self._index = index
        self.dimension = int(index.d)
        # A zero-copy view of the stored rows: scoring a few hundred chosen rows against the
        # question is a small matrix product, cheaper than asking FAISS for each.
        size = int(index.ntotal) * self.dimension
        flat = faiss.rev_swig_ptr(index.get_xb(), size) if size else np.zeros(0, np.float32)
        self.matrix: Matrix = np.asarray(flat, dtype=np.float32).reshape(-1, self.dimension)

    @classmethod
    def from_vectors(cls, vectors: Matrix, dimension: int) -> VectorIndex:
        index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path, expected_rows: int, dimension: int) -> VectorIndex:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            reason = str(error).strip().splitlines()[-1][:120]
            raise IndexIncompatibleError(f"{path.name} cannot be read ({reason})") from None
        if not isinstance(index, faiss.IndexFlatIP):
            raise IndexIncompatibleError(f"{path.name} is not a flat inner-product index")
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

    def search(self, query: Matrix, k: int) -> tuple[Matrix, Ids]:
        """Top-k (scores, rows) for one query vector; rows are -1 past the end."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, rows = self._index.search(query.reshape(1, -1).astype(np.float32), k)
        return scores[0], rows[0]
