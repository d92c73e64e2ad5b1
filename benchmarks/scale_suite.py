"""Speed and scale on the White House briefing-room archive: one command, one table.

    python -m benchmarks.scale_suite --archive PATH --eval-dir DIR [--fractions 0.1,0.3,1.0]
        [--encoder onnx-int8] [--vectors FILE.npz | --encode-all] [--questions 60]
        [--repeats 3] [--share-files 40] [--encoder-cache DIR]

`--archive` is the .tar.xz (e.g. ../shared/corpora/wh-briefings.tar.xz, unpacked into a
temporary folder) or a folder that holds it unpacked; the questions are a seeded sample of
the news-dev and squad-dev queries in `--eval-dir` (e.g. ../shared/eval). Each fraction takes
a seeded sample of the files (a smaller fraction's files are a subset of a larger one's;
`--repeats` files are always held back to be added later) and hard-links them into a data
folder.

Encoding the whole archive takes hours on a small CPU, and nothing but the build's own time
depends on it, so by default the bulk of each index gets vectors looked up by model input in
`--vectors` (an .npz of `texts` and `vectors` made with the same model, e.g. on a GPU) and,
for inputs not found there, a deterministic stand-in (a random unit vector seeded by the text);
the `real` column gives the share of rows with real vectors. `--encode-all` encodes everything
with the real encoder instead. Everything measured after the build uses the real encoder: the
questions, and the articles that updates add and change. In order:

- pipeline share (once, before the table): a full build of `--share-files` files against the
  raw encoder on exactly the texts it encoded, in CPU seconds of this process (target ≥ 90 %);
- recall@10 (once): the engine's quantized search against exact search on the real sentence
  vectors (`--vectors`, or the largest fraction's with `--encode-all`);
- per fraction: `build s` from nothing; query p50/p95 of `Engine.search` one question at a
  time after warm-up, and BM25's share of the median; cold start (a fresh process from start
  to its first answer, the index's files first evicted from the page cache, as after a
  reboot; `warm s`: the same again with them cached) and its peak RSS beside the issue's
  bound (the RSS of a process that only loaded the model and answered with it, plus 1.5 ×
  the float32 vector bytes, plus the passage text); vector and disk MB; add / change /
  delete one article (median of `--repeats`, switch and reload included) and the seconds
  the add spent encoding; a build with nothing changed; an update past the compaction limit
  (`over s`), the compaction after it, and query p50 while it ran.

Each row records the load average when it started (the CPU may be shared). The last lines
extrapolate to the whole archive and to 10 M passages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import embeddings.index.indexer
from benchmarks.common import (
    StandIn,
    Vectors,
    add_encoder_options,
    link_files,
    machine,
    percentiles,
    questions,
    recall_at_10,
    shuffled_markdown,
    timed_each,
    unpacked,
)
from benchmarks.pipeline_share import measure as measure_share
from embeddings import Engine
from embeddings.index.directory.generation import open_current
from embeddings.index.directory.vectors import RESCORE, VectorIndex
from embeddings.index.indexer import BuildProgress, BuildSummary
from embeddings.index.lexical import tokenize
from embeddings.index.stores import open_store
from embeddings.models.encoder import Encoder, load_encoder

COLD_START = """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from embeddings.models.encoder import load_encoder
from embeddings import Engine
encoder = load_encoder(sys.argv[2], cache_dir=Path(sys.argv[3]))
question = "What did the President say about inflation?"
if sys.argv[1] == "-":  # the model alone: the baseline of the memory bound
    encoder.encode([question])
else:
    Engine(open_store(Path(sys.argv[1])), encoder).search(question)
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries the parent's RSS at fork into the child's ru_maxrss.
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
rss = int(status["VmHWM"].split()[0]) * 1024
print(json.dumps({"seconds": seconds, "rss": rss}))
"""
CHANGED = "\n\nOne paragraph added to this statement later, to change it a little.\n"


class Bulk(StandIn):
    """The real encoder, with looked-up or stand-in vectors."""

    def __init__(self, real: Encoder, known: dict[str, Vectors]) -> None:
        super().__init__(real)
        self.known = known
        self.found = self.total = 0

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> Vectors:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            vector = self.known.get(text)
            if vector is None:
                seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
                drawn = np.random.default_rng(seed).standard_normal(self.dimension)
                vector = (drawn / np.linalg.norm(drawn)).astype(np.float32)
            else:
                self.found += 1
            out[row] = vector
        self.total += len(texts)
        if progress:
            progress(len(texts))
        return out


@dataclass(slots=True)
class Row:
    fraction: float
    files: int
    passages: int
    sentences: int
    kinds: str
    real: float  # share of the indexed rows with real vectors
    build_s: float
    p50_ms: float
    p95_ms: float
    bm25_share: float
    cold_s: float
    warm_s: float
    rss_mb: float
    bound_mb: float
    vector_mb: float
    disk_mb: float
    add_s: float
    change_s: float
    delete_s: float
    add_encoding_s: float
    same_s: float
    over_s: float
    compact_s: float
    p50_compacting_ms: float
    load: float


@dataclass(slots=True)
class Run:
    """What every fraction shares."""

    root: Path
    real: Encoder
    kind: str
    cache: Path
    known: dict[str, Vectors]
    encode_all: bool
    questions: list[str]
    model_rss: int


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, required=True, help=".tar.xz or its folder")
    parser.add_argument(
        "--eval-dir", type=Path, required=True, help="holds news-dev and squad-dev (questions)"
    )
    parser.add_argument("--fractions", default="0.1,0.3,1.0")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--vectors", type=Path, help=".npz of `texts` and `vectors`")
    source.add_argument("--encode-all", action="store_true", help="encode every text (hours)")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--share-files", type=int, default=40)
    add_encoder_options(parser)
    args = parser.parse_args()
    fractions = sorted(float(f) for f in args.fractions.split(","))
    with tempfile.TemporaryDirectory(prefix="newsdesk-scale-") as scratch:
        root = Path(scratch)
        archive = unpacked(args.archive, root / "archive")
        files = shuffled_markdown(archive)
        cache = args.encoder_cache or root / "encoders"
        real = load_encoder(args.encoder, cache_dir=cache)
        known: dict[str, Vectors] = {}
        if args.vectors:
            with np.load(args.vectors) as stored:
                known = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
        run = Run(root, real, args.encoder, cache, known, args.encode_all,
                  questions(args.eval_dir, args.questions),
                  _rss(Path("-"), args.encoder, cache)[1])  # fmt: skip
        print(f"{len(files):,} files; {real.name}; {len(known):,} known vectors; {machine()}",
              flush=True)  # fmt: skip
        share_rate = _pipeline_share(files[-args.share_files :], run)
        scan = _recall(np.stack(list(known.values())), real, run.questions) if known else None
        rows: list[Row] = []
        for fraction in fractions:
            count = min(round(len(files) * fraction), len(files) - args.repeats)
            spares = files[len(files) - args.repeats :]
            rows.append(_measure(fraction, files[:count], spares, run))
            _table(rows)
        if args.encode_all:
            largest = root / f"f{fractions[-1]}" / "index"
            generation = open_current(largest, real.name, real.dimension)
            scan = _recall(np.asarray(generation.sentences.matrix), real, run.questions)
        _extrapolate(rows[-1], len(files), share_rate, scan)
    return 0


def _pipeline_share(files: Sequence[Path], run: Run) -> float:
    """Prints the pipeline's share of the raw encoder; returns the raw texts per second."""
    folder = run.root / "share"
    link_files(files, folder / "data")
    run.real.encode(["warm-up"] * 64)
    share = measure_share(folder / "data", folder / "index", run.real)
    parts = ", ".join(f"{name} {cpu:.1f}" for name, cpu in share.stages.items())
    print(
        f"pipeline share: {len(files)} files, {share.passages:,} passages, {share.texts:,} "
        f"texts; pipeline {share.pipeline_cpu:.1f} CPU s ({parts}), raw encoder "
        f"{share.raw_cpu:.1f} CPU s: {share.cpu:.1%} per CPU second, {share.wall:.1%} wall; "
        f"raw {share.texts / share.raw_wall:.0f} texts/s",
        flush=True,
    )
    return share.texts / share.raw_wall


def _measure(fraction: float, files: list[Path], spares: list[Path], run: Run) -> Row:
    folder = run.root / f"f{fraction}"
    data, index = folder / "data", folder / "index"
    link_files(files, data)
    load = os.getloadavg()[0]
    builder = run.real if run.encode_all else Bulk(run.real, run.known)
    started = time.perf_counter()
    Engine(open_store(index), builder).build([data])
    build_s = time.perf_counter() - started
    engine = Engine(open_store(index), run.real)
    generation = open_current(index, run.real.name, run.real.dimension)
    for question in run.questions[:5]:  # warm-up: caches, first-call allocations
        engine.search(question)
    timings = timed_each(engine.search, run.questions[5:])[1]
    bm25 = timed_each(generation.lexical.scores, map(tokenize, run.questions[5:]))[1]
    _evict(index)
    cold_s, rss = _rss(index, run.kind, run.cache)
    warm_s = _rss(index, run.kind, run.cache)[0]
    p50_ms, p95_ms = percentiles(timings, 50, 95)
    vector_bytes = generation.passages.matrix.nbytes + generation.sentences.matrix.nbytes
    [(text_bytes,)] = generation.query("SELECT SUM(LENGTH(CAST(text AS BLOB))) FROM passages")
    disk = generation.disk_bytes()

    adds, changes, deletes, encoding = [], [], [], []
    for number, spare in enumerate(spares):
        target = data / f"99999-{number}-{spare.name}"
        os.link(spare, target)
        _, seconds, encode_s = _timed(engine.build, data)
        adds.append(seconds)
        encoding.append(encode_s)
        target.unlink()
        target.write_text(spare.read_text(encoding="utf-8") + CHANGED, encoding="utf-8")
        changes.append(_timed(engine.build, data)[1])
        target.unlink()
        deletes.append(_timed(engine.build, data)[1])
    same_s = _timed(engine.build, data)[1]
    over_s, compact_s, compacting = _past_the_limit(engine, data, spares[0], run.questions)
    real = builder.found / max(builder.total, 1) if isinstance(builder, Bulk) else 1.0
    return Row(
        fraction=fraction,
        files=len(files),
        passages=generation.manifest.count,
        sentences=generation.manifest.sentences,
        kinds=f"{generation.passages.kind}/{generation.sentences.kind}",
        real=real,
        build_s=build_s,
        p50_ms=p50_ms,
        p95_ms=p95_ms,
        bm25_share=statistics.median(bm25) / p50_ms,
        cold_s=cold_s,
        warm_s=warm_s,
        rss_mb=rss / 1e6,
        bound_mb=(run.model_rss + 1.5 * vector_bytes + int(text_bytes)) / 1e6,
        vector_mb=vector_bytes / 1e6,
        disk_mb=disk / 1e6,
        add_s=statistics.median(adds),
        change_s=statistics.median(changes),
        delete_s=statistics.median(deletes),
        add_encoding_s=statistics.median(encoding),
        same_s=same_s,
        over_s=over_s,
        compact_s=compact_s,
        p50_compacting_ms=statistics.median(compacting) if compacting else float("nan"),
        load=load,
    )


def _past_the_limit(
    engine: Engine, data: Path, spare: Path, asked: Sequence[str]
) -> tuple[float, float, list[float]]:
    """(update s, compaction s, query ms while compacting) for an add that crosses the
    compaction limit: the update is served at once, the compaction runs behind it."""
    limit = embeddings.index.indexer.DELTA_LIMIT
    embeddings.index.indexer.DELTA_LIMIT = 0  # the next update is over the limit
    target = data / f"99999-over-{spare.name}"
    try:
        os.link(spare, target)
        summary, over_s, _ = _timed(engine.build, data)
    finally:
        embeddings.index.indexer.DELTA_LIMIT = limit
    assert summary.compaction_due
    result: list[float] = []
    worker = threading.Thread(target=lambda: result.append(_timed(engine.compact, data)[1]))
    worker.start()
    compacting: list[float] = []
    while worker.is_alive():  # bounded by the compaction
        compacting += timed_each(engine.search, asked[:5])[1]
    worker.join()
    return over_s, result[0], compacting


def _timed(build: Callable[..., BuildSummary], data: Path) -> tuple[BuildSummary, float, float]:
    """(summary, wall seconds, of which encoding) of one build."""
    stages: dict[str, float] = {}

    def progress(step: BuildProgress) -> None:
        stages.setdefault(step.stage, time.perf_counter())

    started = time.perf_counter()
    summary = build([data], progress)
    seconds = time.perf_counter() - started
    encoding = stages.get("writing", 0.0) - stages.get("encoding", 0.0)
    return summary, seconds, encoding


def _rss(index: Path, kind: str, cache: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS) of a fresh process answering one question from `index` ("-":
    loading the model and encoding the question only)."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD_START, str(index), kind, str(cache)],
        capture_output=True, text=True, check=True, env=environment, timeout=600,
    )  # fmt: skip
    wall = time.perf_counter() - started
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, int(measured["rss"])


def _evict(index: Path) -> None:
    """Drop the index's files from the page cache (no privileges needed), so the next start
    reads them from the disk as after a reboot; the model and libraries stay cached."""
    os.sync()
    for path in index.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _recall(matrix: Vectors, encoder: Encoder, asked: list[str]) -> float:
    """Prints recall@10 and ms per query of the engine's quantized search (product-quantized
    codes, candidates re-scored exactly) against exact search on `matrix`, by re-scoring
    depth. A found row counts when it scores at least the exact 10th: the archive repeats
    sentences, and among equal scores either row is an exact answer. Returns the engine's
    milliseconds per query per million rows."""
    queries = encoder.encode(asked)
    exact = VectorIndex.from_vectors(matrix, matrix.shape[1], approximate_from=len(matrix) + 1)
    exact_scores, exact_ms = timed_each(lambda query: exact.search(query, 10)[0], queries)
    tenth = [float(scores[-1]) for scores in exact_scores]
    flat_ms = sum(exact_ms) / len(queries)
    quantized = VectorIndex.from_vectors(matrix, matrix.shape[1], approximate_from=0)
    sweep, per_million = [], 0.0
    for depth in (4, RESCORE, 20):

        def scores(query: Vectors, depth: int = depth) -> Vectors:
            return quantized.search(query, 100, depth)[0]

        found, timings = timed_each(scores, queries)
        ms = sum(timings) / len(queries)
        recall = recall_at_10(found, tenth)
        engine = ""
        if depth == RESCORE:
            engine, per_million = " (the engine's)", ms * 1e6 / len(matrix)
        sweep.append(f"{depth}×k re-scored{engine} {recall:.3f} in {ms:.2f} ms")
    print(
        f"recall@10 on {len(matrix):,} real sentence vectors, {len(queries)} questions, k = 100: "
        + "; ".join(sweep)
        + f"; exact search {flat_ms:.2f} ms",
        flush=True,
    )
    return per_million


COLUMNS: list[tuple[str, int, Callable[[Row], str]]] = [
    ("frac", 5, lambda r: f"{r.fraction:.0%}"),
    ("files", 6, lambda r: f"{r.files:,}"),
    ("passages", 9, lambda r: f"{r.passages:,}"),
    ("sents", 9, lambda r: f"{r.sentences:,}"),
    ("kinds", 21, lambda r: r.kinds),
    ("real", 5, lambda r: f"{r.real:.0%}"),
    ("build s", 7, lambda r: f"{r.build_s:.0f}"),
    ("p50 ms", 6, lambda r: f"{r.p50_ms:.1f}"),
    ("p95 ms", 6, lambda r: f"{r.p95_ms:.1f}"),
    ("bm25", 5, lambda r: f"{r.bm25_share:.0%}"),
    ("cold s", 6, lambda r: f"{r.cold_s:.1f}"),
    ("warm s", 6, lambda r: f"{r.warm_s:.1f}"),
    ("RSS MB", 6, lambda r: f"{r.rss_mb:.0f}"),
    ("bound", 6, lambda r: f"{r.bound_mb:.0f}"),
    ("vec MB", 6, lambda r: f"{r.vector_mb:.0f}"),
    ("disk MB", 7, lambda r: f"{r.disk_mb:.0f}"),
    ("add s", 5, lambda r: f"{r.add_s:.2f}"),
    ("enc s", 5, lambda r: f"{r.add_encoding_s:.2f}"),
    ("chg s", 5, lambda r: f"{r.change_s:.2f}"),
    ("del s", 5, lambda r: f"{r.delete_s:.2f}"),
    ("same s", 6, lambda r: f"{r.same_s:.2f}"),
    ("over s", 6, lambda r: f"{r.over_s:.2f}"),
    ("compact s", 9, lambda r: f"{r.compact_s:.1f}"),
    ("p50 then", 8, lambda r: f"{r.p50_compacting_ms:.1f}"),
    ("load", 5, lambda r: f"{r.load:.1f}"),
]


def _table(rows: list[Row]) -> None:
    print("\n" + " ".join(f"{name:>{width}}" for name, width, _ in COLUMNS))
    for row in rows:
        print(" ".join(f"{cell(row):>{width}}" for _, width, cell in COLUMNS))
    sys.stdout.flush()


def _extrapolate(row: Row, total_files: int, raw_rate: float, scan: float | None) -> None:
    scale = total_files / row.files
    texts = (row.passages + row.sentences) * scale
    print(
        f"\nWhole archive (×{scale:.2f} of the last row): about {row.passages * scale:,.0f} "
        f"passages and {row.sentences * scale:,.0f} sentences; encoding them at the raw "
        f"{raw_rate:.0f} texts/s measured above takes {texts / raw_rate / 3600:.1f} h on this "
        f"machine; float32 vectors {row.vector_mb * scale:,.0f} MB."
    )
    rows = 1e7 * (row.passages + row.sentences) / row.passages
    print(
        f"10 M passages ({rows / 1e6:.0f} M vector rows with their sentences): encoding takes "
        f"{rows / raw_rate / 86400:.0f} days at that rate, or about {rows / 25_000 / 60:.0f} min "
        f"at the 25,000 texts/s measured on an H200; float32 rows {rows * 384 * 4 / 1e9:.0f} GB, "
        f"4-bit codes {rows * 48 / 1e9:.1f} GB."
    )
    if scan is not None:
        print(
            f"The scan of the codes costs {scan:.2f} ms per million rows here, so about "
            f"{scan * rows / 1e6:.0f} ms a question at 10 M passages on one core."
        )


if __name__ == "__main__":
    sys.exit(main())
