"""Feeding a GPU fast: tokenize in parallel ahead of it, length-sorted batches, half precision.

Plain `SentenceTransformer.encode` tokenizes each batch on the calling thread while the GPU
waits, and then waits for the GPU while nothing is tokenized: a MiniLM on an H100/H200 is bound
by that host-side work (about 4,200 passages/s), not by arithmetic. Here worker threads (the
Rust tokenizer releases the GIL; its fast mode skips the character offsets) tokenize and pad
length-sorted batches several batches ahead, the main thread only copies them over and runs
the model, and the vectors stay on the GPU until the end, where they are put back in input
order in one step (a per-batch index tensor would cost a synchronising copy each batch).

This module imports only numpy, torch and tokenizers and nothing of newsdesk, so that
benchmarks/gpu_encode.py can load it by path on a machine where the rest of newsdesk's
dependencies are not installed. embeddings/encoder.py uses it for `--device cuda`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from tokenizers import Tokenizer

Batch = tuple[list[int], Any, Any]  # (rows of the input, token ids, attention mask)


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

    def _tokenizer(self) -> Tokenizer:
        tokenizer: Tokenizer | None = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            tokenizer = Tokenizer.from_file(self._tokenizer_file)
            tokenizer.enable_truncation(self._max_tokens)
            tokenizer.enable_padding(pad_id=0)  # to the longest text of each batch
            self._local.tokenizer = tokenizer
        return tokenizer

    def _prepare(self, texts: Sequence[str], rows: list[int]) -> Batch:
        tokenizer = self._tokenizer()
        # encode_batch_fast (tokenizers >= 0.20) skips the character offsets we never read.
        encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
        encoded = encode([texts[i] for i in rows])
        ids = torch.from_numpy(np.array([e.ids for e in encoded], dtype=np.int64))
        mask = torch.from_numpy(np.array([e.attention_mask for e in encoded], dtype=np.int64))
        if self._pin:
            ids, mask = ids.pin_memory(), mask.pin_memory()
        return rows, ids, mask

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
        for rows, ids, mask in self._batches(texts):
            ids = ids.to(self.device, non_blocking=True)
            mask = mask.to(self.device, non_blocking=True)
            hidden = self.transformer(
                input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)
            ).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            # Sum in float32: fp16 sums over hundreds of tokens lose digits.
            summed = (hidden * weights).float().sum(1)
            mean = summed / weights.float().sum(1).clamp(min=1e-9)
            done.append(torch.nn.functional.normalize(mean, p=2.0, dim=1))
            order += rows
            if progress:
                progress(len(rows))
        out = np.empty((len(texts), width), dtype=np.float32)
        out[np.asarray(order)] = torch.cat(done).cpu().numpy()
        return out
