"""Speed and scale on the White House briefing-room archive, at several fractions of it: one table.

    python benchmarks/scale_suite.py [--archive PATH] [--fractions 0.01,0.03,0.1]
        [--encoder torch|onnx|onnx-int8] [--questions 60] [--raw-sample 1500]

`--archive` is the .tar.xz (default ../shared/corpora/wh-briefings.tar.xz, unpacked into a
temporary folder) or a folder that holds it unpacked. Each fraction takes a seeded sample of
the files (a smaller fraction's files are a subset of a larger one's), hard-links them into a
data folder and measures, in this order:

- index: `Engine.build` of that folder from nothing (parse → chunk → embed → BM25 → SQLite →
  FAISS → switch → load), wall seconds; texts/s: model inputs encoded per second of it;
  items/s: passages + sentences indexed per second (a one-sentence passage and its sentence
  share one model input, encoded once);
- raw: the same encoder on a random sample of the same model inputs, in the same run; the
  pipeline's share of that rate is the `pipe/raw` column (target ≥ 90 %), and `cpu` is the
  same ratio per CPU-second of this process (wall-clock rates move with other jobs' load);
- query p50/p95: `Engine.search` one question at a time after warm-up, with the share of
  the median spent in BM25, and recall@10 of the approximate index (the engine's re-scoring
  depth) against flat on the sentence vectors (a sweep of depths is printed above the table);
- cold start: a fresh process from start to its first answer, and that process's peak RSS;
- disk: the generation folder;
- add / change / delete: one article, `Engine.build` including the switch and the reload.

Each row also records the load average (the CPU is shared: numbers move with it). Encoding
dominates the cost; the last lines extrapolate it to the whole archive and to 10 M passages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings import Engine
from embeddings.chunking import model_input
from embeddings.encoder import Encoder, load_encoder
from embeddings.indexer import sentence_input
from embeddings.lexical import tokenize
from embeddings.vectors import APPROXIMATE_FROM, RESCORE, VectorIndex

REPO = Path(__file__).resolve().parent.parent
TARBALL = REPO.parent / "shared" / "corpora" / "wh-briefings.tar.xz"
QUESTION_FILES = [
    REPO.parent / "shared" / "eval" / "news-dev" / "queries.jsonl",
    REPO.parent / "shared" / "eval" / "squad-dev" / "queries.jsonl",
]
COLD_START = """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from embeddings.encoder import load_encoder
from embeddings import Engine
encoder = load_encoder(sys.argv[2], cache_dir=Path(sys.argv[3]))
answer = Engine(Path(sys.argv[1]), encoder).search("What did the President say about inflation?")
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries the parent's RSS at fork into the child's ru_maxrss.
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
rss = int(status["VmHWM"].split()[0]) * 1024
print(json.dumps({"seconds": seconds, "rss": rss, "results": len(answer.results)}))
"""


@dataclass(slots=True)
class Row:
    fraction: float
    files: int
    passages: int
    sentences: int
    index_s: float
    texts_per_s: float  # texts that went through the model, per second of the whole build
    items_per_s: float  # passages + sentences indexed per second (shared inputs encode once)
    raw_per_s: float
    cpu_share: float  # pipeline texts per CPU-second over the raw encoder's: robust to load
    p50_ms: float
    p95_ms: float
    bm25_share: float
    recall10: float
    kinds: str
    cold_s: float
    rss_mb: float
    vector_mb: float
    disk_mb: float
    add_s: float
    change_s: float
    delete_s: float
    load: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=TARBALL)
    parser.add_argument("--fractions", default="0.1,0.3,1.0")
    parser.add_argument("--encoder", default="torch", choices=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--raw-sample", type=int, default=2000, help="texts for the raw rate")
    args = parser.parse_args()
    fractions = sorted(float(f) for f in args.fractions.split(","))
    with tempfile.TemporaryDirectory(prefix="newsdesk-scale-") as scratch:
        root = Path(scratch)
        archive = unpacked(args.archive, root / "archive")
        files = sorted(p for p in archive.rglob("*.md") if p.is_file())
        random.Random(20261128).shuffle(files)
        encoder = load_encoder(args.encoder, cache_dir=root / "encoders")
        asked = questions(args.questions)
        print(f"{len(files):,} article files; encoder {encoder.name}; {os.cpu_count()} CPUs; "
              f"{len(asked)} questions", flush=True)  # fmt: skip
        rows = []
        for fraction in fractions:
            count = max(2, round(len(files) * fraction))
            row = _measure(fraction, files[:count], files[count], root / f"f{fraction}", encoder,
                           args.encoder, asked, args.raw_sample)  # fmt: skip
            rows.append(row)
            _table(rows)
        _extrapolate(rows[-1], len(files))
    return 0


def unpacked(archive: Path, target: Path) -> Path:
    if archive.is_dir():
        return archive
    started = time.perf_counter()
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    print(f"unpacked {archive.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return target


def questions(limit: int) -> list[str]:
    texts = []
    for path in QUESTION_FILES:
        with path.open(encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return random.Random(5).sample(texts, min(limit, len(texts)))


def _measure(
    fraction: float,
    files: list[Path],
    spare: Path,
    folder: Path,
    encoder: Encoder,
    kind: str,
    questions: list[str],
    raw_sample: int,
) -> Row:
    data, index = folder / "data", folder / "index"
    for number, path in enumerate(files):
        target = data / f"{number:05d}-{path.name}"  # flat: names repeat across months
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)
    load = os.getloadavg()[0]
    engine = Engine(index, encoder)
    started, cpu = time.perf_counter(), time.process_time()
    summary = engine.build([data])
    index_s, index_cpu = time.perf_counter() - started, time.process_time() - cpu
    searcher = engine._current()  # the loaded generation, for the measurements below
    generation = searcher.generation
    raw, raw_cpu = _raw_rate(encoder, generation, raw_sample)

    for question in questions[:5]:  # warm-up: caches, first-call allocations
        engine.search(question)
    timings, bm25 = [], []
    for question in questions[5:]:
        started = time.perf_counter()
        engine.search(question)
        timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        generation.lexical.scores(tokenize(question))
        bm25.append((time.perf_counter() - started) * 1000)
    sweep = _recall(np.asarray(generation.sentences.matrix), encoder, questions)
    cold = cold_start(index, kind, folder.parent / "encoders")
    disk = sum(p.stat().st_size for p in generation.path.rglob("*") if p.is_file())
    vector_bytes = generation.passages.matrix.nbytes + generation.sentences.matrix.nbytes

    spare_target = data / f"99999-{spare.name}"
    os.link(spare, spare_target)
    add_s = _timed_build(engine, data)
    spare_target.unlink()
    spare_target.write_text(spare.read_text(encoding="utf-8") + "\n\nOne paragraph added "
                            "to this statement later, to change it a little.\n")  # fmt: skip
    change_s = _timed_build(engine, data)
    spare_target.unlink()
    delete_s = _timed_build(engine, data)
    return Row(
        fraction=fraction,
        files=len(files),
        passages=summary.passages,
        sentences=generation.manifest.sentences,
        index_s=index_s,
        texts_per_s=summary.encoded / index_s,
        items_per_s=(summary.passages + generation.manifest.sentences) / index_s,
        raw_per_s=raw,
        cpu_share=(summary.encoded / index_cpu) / raw_cpu,
        p50_ms=statistics.median(timings),
        p95_ms=float(np.percentile(timings, 95)),
        bm25_share=statistics.median(bm25) / statistics.median(timings),
        recall10=sweep[RESCORE][0],
        kinds=f"{generation.passages.kind}/{generation.sentences.kind}",
        cold_s=cold[0],
        rss_mb=cold[1] / 1e6,
        vector_mb=vector_bytes / 1e6,
        disk_mb=disk / 1e6,
        add_s=add_s,
        change_s=change_s,
        delete_s=delete_s,
        load=load,
    )


def _raw_rate(encoder: Encoder, generation: object, sample: int) -> tuple[float, float]:
    """Texts per second and per CPU-second of the encoder alone, on a random sample of the
    same model inputs."""
    from embeddings.store import Generation

    assert isinstance(generation, Generation)
    rows = generation.query(
        "SELECT p.text, a.title, p.id FROM passages p JOIN articles a ON a.id = p.article_id"
    )
    spans = generation.query("SELECT passage_id, start, end FROM sentences")
    texts = {int(i): (str(t), str(title)) for t, title, i in rows}
    inputs = [model_input(title, text) for text, title in texts.values()]
    inputs += [sentence_input(texts[p][1], texts[p][0][a:b]) for p, a, b in spans]
    chosen = random.Random(3).sample(inputs, min(sample, len(inputs)))
    encoder.encode(chosen[:64])  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    encoder.encode(chosen)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(chosen) / wall, len(chosen) / cpu


def _recall(matrix: np.ndarray, encoder: Encoder, questions: list[str]) -> dict[int, tuple]:
    """Re-scoring depth → (recall@10, ms per query) of the engine's approximate index (product
    quantized codes, candidates re-scored exactly) against exact search on `matrix`; 0 → the
    flat index's own ms per query.

    Recall counts a found row as right when it scores at least the exact 10th score: the
    archive repeats sentences, and among equal scores either row is an exact answer."""
    queries = encoder.encode(questions)
    exact = VectorIndex.from_vectors(matrix, matrix.shape[1], approximate_from=len(matrix) + 1)
    started = time.perf_counter()
    tenth = [float(exact.search(q, 10)[0][-1]) for q in queries]
    sweep: dict[int, tuple] = {0: (1.0, (time.perf_counter() - started) * 1000 / len(queries))}
    started = time.perf_counter()
    graph = VectorIndex.from_vectors(matrix, matrix.shape[1], approximate_from=0)
    print(f"  PQ codes over {len(matrix):,} rows built in {time.perf_counter() - started:.0f} s")
    for depth in (2, 4, 10, 20):
        started = time.perf_counter()
        found = [graph.search(q, 10, depth)[0] for q in queries]
        ms = (time.perf_counter() - started) * 1000 / len(queries)
        recall = np.mean([np.sum(f >= t - 1e-6) / 10 for f, t in zip(found, tenth, strict=True)])
        sweep[depth] = (float(recall), ms)
    print(
        "  re-scored per result → recall@10, ms/query (0: flat): "
        + ", ".join(f"{d}: {r:.3f} {ms:.2f}" for d, (r, ms) in sweep.items()),
        flush=True,
    )
    return sweep


def cold_start(index: Path, kind: str, cache: Path) -> tuple[float, int]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COLD_START, str(index), kind, str(cache)],
        capture_output=True, text=True, check=True, env=environment, timeout=600,
    )  # fmt: skip
    wall = time.perf_counter() - started
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, int(measured["rss"])


def _timed_build(engine: Engine, data: Path) -> float:
    started = time.perf_counter()
    engine.build([data])
    return time.perf_counter() - started


def _table(rows: list[Row]) -> None:
    print(
        f"\n{'frac':>5} {'files':>6} {'passages':>9} {'sents':>8} {'index s':>8} "
        f"{'texts/s':>8} {'items/s':>8} {'raw/s':>6} {'pipe/raw':>8} {'cpu':>5} "
        f"{'p50 ms':>7} {'p95 ms':>7} "
        f"{'bm25':>5} {'r@10':>5} {'kinds':>10} {'cold s':>7} {'RSS MB':>7} {'vec MB':>7} "
        f"{'disk MB':>8} {'add s':>6} {'chg s':>6} {'del s':>6} {'load':>5}"
    )
    for r in rows:
        print(
            f"{r.fraction:>5.0%} {r.files:>6,} {r.passages:>9,} {r.sentences:>8,} "
            f"{r.index_s:>8.0f} {r.texts_per_s:>8.1f} {r.items_per_s:>8.1f} {r.raw_per_s:>6.1f} "
            f"{r.texts_per_s / r.raw_per_s:>8.0%} {r.cpu_share:>5.0%} "
            f"{r.p50_ms:>7.1f} {r.p95_ms:>7.1f} "
            f"{r.bm25_share:>5.0%} {r.recall10:>5.3f} {r.kinds:>10} {r.cold_s:>7.1f} "
            f"{r.rss_mb:>7.0f} {r.vector_mb:>7.0f} {r.disk_mb:>8.0f} {r.add_s:>6.1f} "
            f"{r.change_s:>6.1f} {r.delete_s:>6.1f} {r.load:>5.1f}"
        )
    sys.stdout.flush()


def _extrapolate(row: Row, total_files: int) -> None:
    scale = total_files / row.files
    texts = (row.passages + row.sentences) * scale
    print(
        f"\nWhole archive (×{scale:.1f} of the last row): about {row.passages * scale:,.0f} "
        f"passages and {row.sentences * scale:,.0f} sentences; encoding at {row.texts_per_s:.0f} "
        f"texts/s would take {texts / row.texts_per_s / 3600:.1f} h on this machine; vectors "
        f"{row.vector_mb * scale:,.0f} MB. The engine switches a vector index from "
        f"{APPROXIMATE_FROM:,} rows to quantized codes with exact re-scoring."
    )
    per_passage = (row.passages + row.sentences) / row.passages
    print(
        f"10 M passages (and {per_passage * 1e7:,.0f} sentences at this ratio): encoding "
        f"{per_passage * 1e7 / row.texts_per_s / 86400:.0f} days at this rate; vectors "
        f"{per_passage * 1e7 * 384 * 4 / 1e9:.0f} GB in float32."
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"peak RSS of this (building) process: {peak:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
