"""What the benchmarks share: the archive's files, question workloads, timing, latency
percentiles, recall against exact search, encoder stand-ins and the encoder options.

Ranking metrics that `newsdesk eval` reports too are in embeddings/ranking/metrics.py.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tarfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from embeddings.models.encoder import ENCODERS, Encoder
from embeddings.ranking.evaluate import load_beir

SEED = 20261128  # every seeded sample of files and vectors
SHIPPED_DATA = Path(__file__).resolve().parent.parent / "data"  # the repository's archive
# Question workloads: what people ask of news, and encyclopedic questions (BEIR folders in the
# folder given as --eval-dir).
QUESTION_SETS = ("news-dev", "squad-dev")
Vectors = npt.NDArray[np.float32]
T = TypeVar("T")
R = TypeVar("R")


def machine() -> str:
    """CPUs and load: the machine may be shared, and times move with its load."""
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"


def unpacked(archive: Path, target: Path) -> Path:
    """A folder with the archive's files: `archive` itself when it is one, else the .tar.xz
    unpacked into `target`."""
    if archive.is_dir():
        return archive
    started = time.perf_counter()
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    print(f"unpacked {archive.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return target


def shuffled_markdown(folder: Path) -> list[Path]:
    """The folder's Markdown files in a seeded order: any prefix is a seeded sample, and a
    shorter prefix is a subset of a longer one."""
    files = sorted(p for p in folder.rglob("*.md") if p.is_file())
    random.Random(SEED).shuffle(files)
    return files


def link_files(files: Sequence[Path], data: Path) -> None:
    """The files in a new flat folder `data` under numbered names (names repeat across
    months): hard links, or copies where `data` is on another file system."""
    data.mkdir(parents=True)
    for number, path in enumerate(files):
        target = data / f"{number:05d}-{path.name}"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)


def questions(eval_dir: Path, limit: int) -> list[str]:
    """A seeded sample of `limit` questions from the QUESTION_SETS under `eval_dir`."""
    texts = [text for name in QUESTION_SETS for text in load_beir(eval_dir / name).queries.values()]
    return random.Random(5).sample(texts, min(limit, len(texts)))


def timed_each(call: Callable[[T], R], items: Iterable[T]) -> tuple[list[R], list[float]]:
    """Each item's result and the milliseconds its call took, one call at a time."""
    results: list[R] = []
    timings: list[float] = []
    for item in items:
        started = time.perf_counter()
        results.append(call(item))
        timings.append((time.perf_counter() - started) * 1000)
    return results, timings


def percentiles(values: Sequence[float], *percents: float) -> list[float]:
    """The given percentiles of `values` (linear between the closest ranks)."""
    return [float(p) for p in np.percentile(np.asarray(values, dtype=np.float64), percents)]


def tenth_scores(matrix: Vectors, queries: Vectors) -> list[float]:
    """Each query's exact 10th best inner product over the rows of `matrix`."""
    return [float(np.partition(matrix @ query, -10)[-10]) for query in queries]


def recall_at_10(found: Iterable[Vectors], tenth: Sequence[float]) -> float:
    """Mean share of each query's first 10 found scores that reach its exact 10th score.
    Scores, not row ids: the archive repeats sentences, and among equal scores either row is
    an exact answer (the tolerance absorbs float32 rounding between code paths)."""
    shares = [np.sum(f[:10] >= t - 1e-5) / 10 for f, t in zip(found, tenth, strict=True)]
    return float(np.mean(shares))


class StandIn:
    """Stands in for an encoder in a build: its name (the index records it), window and token
    counts; a subclass decides what `encode` returns."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def add_encoder_options(parser: argparse.ArgumentParser) -> None:
    """--encoder and --encoder-cache, as `newsdesk` takes them."""
    parser.add_argument("--encoder", default="onnx-int8", choices=ENCODERS)
    parser.add_argument(
        "--encoder-cache", type=Path, help="where ONNX exports are kept (default: a temporary one)"
    )
