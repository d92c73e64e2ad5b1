"""Constants and small helpers the tests share."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from embeddings.models.tiny import TinyEncoder

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
WANG_YI_QUESTION = "What did Wang Yi say about the UN?"
WANG_YI_UN = (
    "Wang Yi said China and Russia, as permanent members of the UN Security Council, "
    "bear a very important responsibility for peace in the world."
)


def write(folder: Path, name: str, text: str) -> Path:
    """Write an article file (creating folders) and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def newsdesk_serve(settings: dict[str, str]) -> asyncio.subprocess.Process:
    """`newsdesk serve` in its own process, as an operator starts it: `settings` on top of
    this environment; its output (stdout and stderr together) on a pipe."""
    # PYTHONFAULTHANDLER: a SIGABRT sent to a hung process dumps every thread's stack.
    env = {**os.environ, **settings, "PYTHONFAULTHANDLER": "1"}
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "newsdesk"),
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


class SlowMultilingual(TinyEncoder):
    """A multilingual model whose passages take `seconds` each (a backfill of minutes), and
    that can be held mid-way so a test acts while the backfill is running."""

    name = "tests/slow-multilingual"
    dimension = 32

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__(slow_seconds=seconds)
        self.calls: list[int] = []
        self.started = threading.Event()

    def encode_passages(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.calls.append(len(texts))
        self.started.set()
        return self.encode(texts, progress)[:, : self.dimension].copy()

    def encode_query(self, question: str) -> np.ndarray:
        return self.encode_passages([question])[0]
