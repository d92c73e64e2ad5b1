"""The indexing pipeline's throughput as a share of the raw encoder's, measured so that a
shared, loaded machine does not decide the answer.

    python -m benchmarks.pipeline_share --archive PATH [--files 40] [--rounds 3]
        [--encoder onnx-int8] [--encoder-cache DIR]

`--archive`: the briefing-room archive's .tar.xz (unpacked into a temporary folder) or a folder
that holds it unpacked.

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
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import (
    StandIn,
    Vectors,
    add_encoder_options,
    link_files,
    shuffled_markdown,
    unpacked,
)
from embeddings.index.indexer import BuildProgress, build_index
from embeddings.index.stores import open_store
from embeddings.models.encoder import Encoder, load_encoder


class Recording(StandIn):
    """The encoder, recording every call's texts."""

    def __init__(self, inner: Encoder) -> None:
        super().__init__(inner)
        self.calls: list[list[str]] = []

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> Vectors:
        self.calls.append(list(texts))
        return self.inner.encode(texts, progress)


@dataclass(slots=True)
class Share:
    passages: int
    texts: int
    pipeline_cpu: float
    pipeline_wall: float
    stages: dict[str, float]  # CPU seconds: chunk, encode, write, read files
    raw_cpu: float
    raw_wall: float

    @property
    def cpu(self) -> float:
        return self.raw_cpu / self.pipeline_cpu

    @property
    def wall(self) -> float:
        return self.raw_wall / self.pipeline_wall


def measure(data: Path, index: Path, encoder: Encoder) -> Share:
    """One round: a full build of `data` into `index`, then the raw encoder on its texts."""
    recording = Recording(encoder)
    marks: dict[str, float] = {}

    def progress(step: BuildProgress) -> None:
        marks.setdefault(step.stage, time.process_time())

    cpu, wall = time.process_time(), time.perf_counter()
    summary = build_index([data], open_store(index), recording, progress)
    pipeline_cpu, pipeline_wall = time.process_time() - cpu, time.perf_counter() - wall
    cpu, wall = time.process_time(), time.perf_counter()
    for call in recording.calls:
        encoder.encode(call)
    raw_cpu, raw_wall = time.process_time() - cpu, time.perf_counter() - wall
    stages = {
        "chunk": marks["encoding"] - marks["parsing"],
        "encode": marks["writing"] - marks["encoding"],
        "write": marks["done"] - marks["writing"],
    }
    stages["read files"] = pipeline_cpu - sum(stages.values())
    texts = sum(len(c) for c in recording.calls)
    return Share(summary.passages, texts, pipeline_cpu, pipeline_wall, stages, raw_cpu, raw_wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, required=True, help=".tar.xz or its folder")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    add_encoder_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsdesk-share-") as scratch:
        root = Path(scratch)
        files = shuffled_markdown(unpacked(args.archive, root / "archive"))
        data = root / "data"
        link_files(files[: args.files], data)
        encoder = load_encoder(args.encoder, cache_dir=args.encoder_cache or root / "encoders")
        encoder.encode(["warm-up"] * 64)
        shares = []
        for round_ in range(args.rounds):
            share = measure(data, root / f"index-{round_}", encoder)
            shares.append(share.cpu)
            parts = " + ".join(f"{name} {cpu:.1f}" for name, cpu in share.stages.items())
            print(
                f"round {round_ + 1}: {share.passages:,} passages, {share.texts:,} texts; "
                f"pipeline {share.pipeline_cpu:.1f} CPU s ({share.pipeline_wall:.1f} wall) = "
                f"{parts}; raw {share.raw_cpu:.1f} CPU s ({share.raw_wall:.1f} wall); "
                f"share {share.cpu:.1%} CPU, {share.wall:.1%} wall",
                flush=True,
            )
        print(f"median share (CPU): {statistics.median(shares):.1%} over {args.rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
