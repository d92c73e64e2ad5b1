"""What adding, changing and deleting one article costs at several sizes of the briefing-room
archive, with query latency and cold start at each size: one table.

    python benchmarks/updates.py [--archive PATH] [--fractions 0.03,0.1,0.3]
        [--encoder onnx-int8] [--vectors FILE.npz] [--repeats 3] [--questions 60]

Encoding the whole archive on this CPU takes hours, and an update's cost is not encoding the
archive, so the bulk of each index is built with vectors looked up by model input in
`--vectors` (an .npz of `texts` and `vectors` made earlier with the same model, e.g. on a GPU)
and, for inputs not found there, a deterministic stand-in (a random unit vector seeded by the
text). The `real` column says which share of the rows carry real vectors. Everything measured
afterwards runs with the real encoder (`--encoder`): it encodes the questions and the articles
that the updates add or change. Per fraction, in this order:

- query p50/p95: `Engine.search` one question at a time after warm-up;
- cold s / RSS MB: a fresh process from start to its first answer, and its peak RSS;
- add / chg / del: `Engine.build` after adding one article file, appending a paragraph to it,
  and deleting it (median of `--repeats` articles), including encoding it, writing the
  generation, switching CURRENT and loading the new generation; `enc` is the texts encoded by
  the add, `enc s` the seconds that took and `add-enc` the rest of the add;
- same: `Engine.build` when nothing changed;
- compact: the full rebuild an update turns into past DELTA_LIMIT (nothing to encode).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

# The archive, unpacking it, the questions and the cold-start probe are scale_suite's (run
# from this folder).
from scale_suite import TARBALL, cold_start, questions, unpacked

import embeddings.indexer
from embeddings import Engine
from embeddings.encoder import Encoder, load_encoder
from embeddings.indexer import BuildProgress


class Bulk:
    """The real encoder's name, window and token counts, with looked-up or stand-in vectors."""

    def __init__(self, real: Encoder, known: dict[str, npt.NDArray[np.float32]]) -> None:
        self.name, self.dimension, self.max_tokens = real.name, real.dimension, real.max_tokens
        self.count_tokens = real.count_tokens
        self.known = known
        self.found = self.total = 0

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            vector = self.known.get(text)
            if vector is None:
                seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
                vector = np.random.default_rng(seed).standard_normal(self.dimension)
                vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            else:
                self.found += 1
            out[row] = vector
        self.total += len(texts)
        if progress:
            progress(len(texts))
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=TARBALL)
    parser.add_argument("--fractions", default="0.03,0.1,0.3")
    parser.add_argument("--encoder", default="onnx-int8", choices=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--vectors", type=Path, help=".npz with `texts` and `vectors`")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--encoder-cache", type=Path, help="where ONNX exports are kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsdesk-updates-") as scratch:
        root = Path(scratch)
        archive = unpacked(args.archive, root / "archive")
        files = sorted(p for p in archive.rglob("*.md") if p.is_file())
        random.Random(20261128).shuffle(files)  # the order scale_suite.py samples in
        cache = args.encoder_cache or root / "encoders"
        real = load_encoder(args.encoder, cache_dir=cache)
        known: dict[str, npt.NDArray[np.float32]] = {}
        if args.vectors:
            with np.load(args.vectors) as stored:
                known = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
        asked = questions(args.questions)
        print(f"{len(files):,} files; {real.name}; {len(known):,} known vectors; "
              f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
        header = (f"{'frac':>5} {'files':>6} {'passages':>9} {'sents':>9} {'kinds':>16} "
                  f"{'real':>5} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} {'cold s':>7} "
                  f"{'RSS MB':>7} {'add s':>6} {'chg s':>6} {'del s':>6} {'enc':>4} {'enc s':>6} "
                  f"{'add-enc':>7} "
                  f"{'same s':>7} {'compact s':>9} {'load':>5}")  # fmt: skip
        lines = []
        for fraction in sorted(float(f) for f in args.fractions.split(",")):
            count = round(len(files) * fraction)
            spares = files[count : count + args.repeats]
            line = _measure(fraction, files[:count], spares, root / f"f{fraction}", real, known,
                            args.encoder, cache, asked)  # fmt: skip
            lines.append(line)
            print("\n" + header + "\n" + "\n".join(lines), flush=True)
    return 0


def _measure(
    fraction: float,
    files: list[Path],
    spares: list[Path],
    folder: Path,
    real: Encoder,
    known: dict[str, npt.NDArray[np.float32]],
    kind: str,
    cache: Path,
    questions: list[str],
) -> str:
    data, index = folder / "data", folder / "index"
    data.mkdir(parents=True)
    for number, path in enumerate(files):
        os.link(path, data / f"{number:05d}-{path.name}")  # flat: names repeat across months
    load = os.getloadavg()[0]
    bulk = Bulk(real, known)
    started = time.perf_counter()
    Engine(index, bulk).build([data])  # type: ignore[arg-type]
    build_s = time.perf_counter() - started
    engine = Engine(index, real)
    generation = engine._current().generation
    manifest = generation.manifest
    for question in questions[:5]:  # warm-up
        engine.search(question)
    timings = []
    for question in questions[5:]:
        started = time.perf_counter()
        engine.search(question)
        timings.append((time.perf_counter() - started) * 1000)
    cold = cold_start(index, kind, cache)

    adds, changes, deletes, encoded, encoding = [], [], [], [], []
    for number, spare in enumerate(spares):
        target = data / f"99999-{number}-{spare.name}"
        os.link(spare, target)
        summary, seconds, encode_s = _timed(engine, data)
        adds.append(seconds)
        encoded.append(summary.encoded)
        encoding.append(encode_s)
        target.unlink()
        target.write_text(spare.read_text(encoding="utf-8") + "\n\nOne paragraph added to "
                          "this statement later, to change it a little.\n")  # fmt: skip
        changes.append(_timed(engine, data)[1])
        target.unlink()
        deletes.append(_timed(engine, data)[1])
    same_s = _timed(engine, data)[1]
    limit = embeddings.indexer.DELTA_LIMIT
    embeddings.indexer.DELTA_LIMIT = -1  # the next change compacts
    try:
        (data / f"{0:05d}-{files[0].name}").unlink()
        compact_s = _timed(engine, data)[1]
    finally:
        embeddings.indexer.DELTA_LIMIT = limit
    return (
        f"{fraction:>5.0%} {len(files):>6,} {manifest.count:>9,} {manifest.sentences:>9,} "
        f"{generation.passages.kind + '/' + generation.sentences.kind:>16} "
        f"{bulk.found / max(bulk.total, 1):>5.0%} {build_s:>8.0f} "
        f"{statistics.median(timings):>7.1f} {float(np.percentile(timings, 95)):>7.1f} "
        f"{cold[0]:>7.1f} {cold[1] / 1e6:>7.0f} {statistics.median(adds):>6.2f} "
        f"{statistics.median(changes):>6.2f} {statistics.median(deletes):>6.2f} "
        f"{statistics.median(encoded):>4.0f} {statistics.median(encoding):>6.2f} "
        f"{statistics.median(a - e for a, e in zip(adds, encoding, strict=True)):>7.2f} "
        f"{same_s:>7.2f} {compact_s:>9.1f} {load:>5.1f}"
    )


def _timed(engine: Engine, data: Path) -> tuple[embeddings.indexer.BuildSummary, float, float]:
    """(summary, wall seconds, of which encoding) of one build."""
    stages: dict[str, float] = {}

    def progress(step: BuildProgress) -> None:
        stages.setdefault(step.stage, time.perf_counter())

    started = time.perf_counter()
    summary = engine.build([data], progress)
    seconds = time.perf_counter() - started
    encoding = stages.get("writing", 0.0) - stages.get("encoding", 0.0)
    return summary, seconds, encoding


if __name__ == "__main__":
    sys.exit(main())
