"""Texts per second and agreement of the three CPU encoders on the same texts, in one run.

    python benchmarks/encoders.py [--texts 256] [--rounds 2]

The texts are SQuAD dev paragraphs (title + paragraph, as the engine forms them), a typical
passage length. Rounds alternate the encoders, so a change in the machine's load (it is
shared) falls on all of them; the best round of each is reported, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from embeddings.models.encoder import load_encoder
from embeddings.text.chunking import model_input

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/eval/squad-dev/corpus.jsonl"
QUESTIONS = CORPUS.with_name("queries.jsonl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with CORPUS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle][: args.texts]
    texts = [model_input(str(r.get("title") or ""), str(r["text"])) for r in rows]
    with QUESTIONS.open(encoding="utf-8") as handle:
        questions = [json.loads(line)["text"] for line in handle][:50]
    with tempfile.TemporaryDirectory() as cache:
        encoders = {
            k: load_encoder(k, cache_dir=Path(cache)) for k in ("torch", "onnx", "onnx-int8")
        }
        best = dict.fromkeys(encoders, 0.0)
        query_ms = dict.fromkeys(encoders, float("inf"))
        vectors = {}
        for _ in range(args.rounds):
            for name, encoder in encoders.items():
                encoder.encode(texts[:32])  # warm-up
                started = time.perf_counter()
                vectors[name] = encoder.encode(texts)
                best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
                started = time.perf_counter()
                for question in questions:
                    encoder.encode([question])
                ms = (time.perf_counter() - started) * 1000 / len(questions)
                query_ms[name] = min(query_ms[name], ms)
    print(f"{len(texts)} texts ({np.mean([len(t) for t in texts]):.0f} characters on average), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(
        f"{'encoder':<12}{'texts/s':>9}{'× torch':>9}{'ms/question':>13}"
        f"{'cos mean':>10}{'cos min':>9}"
    )
    for name in encoders:
        cosine = (vectors[name] * vectors["torch"]).sum(axis=1)
        print(f"{name:<12}{best[name]:>9.1f}{best[name] / best['torch']:>9.2f}"
              f"{query_ms[name]:>13.1f}{cosine.mean():>10.4f}{cosine.min():>9.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
