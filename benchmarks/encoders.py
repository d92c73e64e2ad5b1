"""Texts per second and agreement of the three CPU encoders on the same texts, in one run.

    python -m benchmarks.encoders --beir DIR [--texts 256] [--rounds 2]

The texts are the first paragraphs of a BEIR folder's corpus, e.g. ../shared/eval/squad-dev
(title + paragraph, as the engine forms them: SQuAD's are a typical passage length), and the
questions its first 50 queries. Rounds alternate the encoders, so a change in the machine's
load (it is shared) falls on all of them; the best round of each is reported, with the load
average.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.common import machine
from embeddings.models.encoder import ENCODERS, load_encoder
from embeddings.ranking.evaluate import load_beir
from embeddings.text.chunking import model_input


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beir", type=Path, required=True, help="a BEIR folder")
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    data = load_beir(args.beir)
    texts = [model_input(a.title, a.paragraphs[0]) for a in data.corpus[: args.texts]]
    questions = list(data.queries.values())[:50]
    with tempfile.TemporaryDirectory() as cache:
        encoders = {k: load_encoder(k, cache_dir=Path(cache)) for k in ENCODERS}
        best = dict.fromkeys(encoders, 0.0)
        query_ms = dict.fromkeys(encoders, float("inf"))
        vectors: dict[str, npt.NDArray[np.float32]] = {}
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
          f"{machine()}")  # fmt: skip
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
