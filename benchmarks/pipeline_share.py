"""The indexing pipeline's throughput as a share of the raw encoder's, measured so that a
shared, loaded machine does not decide the answer.

    python benchmarks/pipeline_share.py [--archive FOLDER] [--files 40] [--rounds 3]
        [--encoder onnx-int8] [--encoder-cache DIR]

Method: one process alternates, `--rounds` times, (a) a full `build_index` of `--files`
briefing-room files into a fresh index, recording the exact texts the pipeline hands the
encoder, and (b) the raw encoder on exactly those texts, in the same order and one call as the
pipeline makes. Both are timed in CPU seconds of this process (all its threads, the encoder's
included) as well as wall seconds: other jobs on the machine change wall time, not the CPU
work of this process. share = raw CPU s / pipeline CPU s (1.0: the pipeline adds nothing to
encoding). The pipeline's CPU seconds are split by stage (chunking, encoding,
writing and switching; the rest is reading the files) from its progress reports.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.encoder import Encoder, load_encoder
from embeddings.indexer import BuildProgress, build_index


class Recording:
    """The encoder, recording every call's texts."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens
        self.calls: list[list[str]] = []

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        return self.inner.encode(texts, progress)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=Path("/tmp/wh"))
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--encoder", default="onnx-int8")
    parser.add_argument("--encoder-cache", type=Path)
    args = parser.parse_args()
    files = sorted(p for p in args.archive.rglob("*.md") if p.is_file())
    random.Random(20261128).shuffle(files)
    with tempfile.TemporaryDirectory(prefix="newsdesk-share-") as scratch:
        root = Path(scratch)
        data = root / "data"
        data.mkdir()
        for number, path in enumerate(files[: args.files]):
            (data / f"{number:05d}-{path.name}").write_bytes(path.read_bytes())
        encoder = load_encoder(args.encoder, cache_dir=args.encoder_cache or root / "encoders")
        encoder.encode(["warm-up"] * 64)
        shares, lines = [], []
        for round_ in range(args.rounds):
            recording = Recording(encoder)
            stages: dict[str, float] = {}

            def progress(step: BuildProgress, stages: dict[str, float] = stages) -> None:
                stages.setdefault(step.stage, time.process_time())

            cpu, wall = time.process_time(), time.perf_counter()
            summary = build_index([data], root / f"index-{round_}", recording, progress)  # type: ignore[arg-type]
            pipeline_cpu, pipeline_wall = time.process_time() - cpu, time.perf_counter() - wall
            texts = sum(len(c) for c in recording.calls)
            cpu, wall = time.process_time(), time.perf_counter()
            for call in recording.calls:
                encoder.encode(call)
            raw_cpu, raw_wall = time.process_time() - cpu, time.perf_counter() - wall
            shares.append(raw_cpu / pipeline_cpu)
            parse = stages["encoding"] - stages["parsing"]
            encode = stages["writing"] - stages["encoding"]
            write = stages["done"] - stages["writing"]
            read = pipeline_cpu - parse - encode - write
            lines.append(
                f"round {round_ + 1}: {summary.passages:,} passages, {texts:,} texts; pipeline "
                f"{pipeline_cpu:.1f} CPU s ({pipeline_wall:.1f} wall) = chunk {parse:.1f} "
                f"+ encode {encode:.1f} + write {write:.1f} + read files {read:.1f}; "
                f"raw {raw_cpu:.1f} CPU s "
                f"({raw_wall:.1f} wall); share {raw_cpu / pipeline_cpu:.1%} CPU, "
                f"{raw_wall / pipeline_wall:.1%} wall"
            )
            print(lines[-1], flush=True)
        print(f"median share (CPU): {statistics.median(shares):.1%} over {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
