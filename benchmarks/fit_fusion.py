"""Fit the English fusion weights honestly: on one half of each dev set's questions (query ids
hashed into halves), reported on the other half.

Two weight sets are fitted, as the engine uses them: `english_weights` (dense, best sentence,
BM25, coverage, speaker match) for an index with MiniLM vectors only, and
`english_multilingual_weights` (the same plus the multilingual model's passage similarity) for
an index that also holds multilingual-e5-small's vectors. Each is a listwise (softmax) linear
ranker over the engine's own candidates and signals (`Searcher.signals`), each dev set weighing
the same however many questions it has, with an L2 pull towards the shipped weights; the
shipped weights stay unless a refit scores better on the fit halves.

    python -m benchmarks.fit_fusion \\
        --set ../shared/eval/news-said-dev:NEWS_INDEX --set ../shared/eval/news-dev:NEWS_INDEX \\
        --set ../shared/eval/squad-dev:SQUAD_INDEX --limit 600 [--write]

Each INDEX is one `newsdesk eval FOLDER --keep-index INDEX` built (with the multilingual model
unless NEWSDESK_MULTILINGUAL=false) for that folder's corpus. `--write` stores both weight sets
in embeddings/ranking/weights.json with what they were fitted and checked on.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import shlex
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.index.stores import open_store
from embeddings.models.encoder import load_encoder
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.ranking.evaluate import load_beir, sample_queries
from embeddings.ranking.fusion import Weights, fusion_terms
from embeddings.ranking.search import Searcher, Signals
from embeddings.ranking.weights import Fitted, Provenance, shipped, write

Matrix = npt.NDArray[np.float64]
BASE = ("dense", "sentence", "lexical", "coverage", "speaker")
WITH_MULTILINGUAL = (*BASE, "multilingual")
PENALTIES = (0.03, 0.1, 0.3)  # L2 pull towards the shipped weights, chosen on the fit half


@dataclass(frozen=True, slots=True)
class Question:
    dev_set: str
    half: str  # "fit" or "held-out"
    signals: Signals
    relevant: npt.NDArray[np.bool_]  # per candidate
    keys: npt.NDArray[np.int64]  # tie-break, as the engine breaks ties


def half(query_id: str) -> str:
    return "fit" if zlib.crc32(query_id.encode()) % 2 == 0 else "held-out"


def features(s: Signals, names: tuple[str, ...]) -> Matrix:
    """The candidates' signals as `fuse` combines them (`fusion_terms`), one column a name."""
    terms = fusion_terms(s.dense, s.sentence, s.lexical, s.coverage, s.speaker, s.multilingual)
    if "multilingual" in names and "multilingual" not in terms:
        raise SystemExit("an index without multilingual vectors: build it with the model on")
    return np.stack([np.asarray(terms[name], np.float64) for name in names], axis=1)


def collect(sets: list[tuple[Path, Path]], limit: int | None) -> list[Question]:
    encoder = load_encoder()
    multilingual = MultilingualEncoder()
    questions: list[Question] = []
    for folder, index in sets:
        data = load_beir(folder)
        generation = open_store(index).open_current(encoder.name, encoder.dimension)
        searcher = Searcher(generation, encoder, multilingual=multilingual)
        asked = [q for q in sample_queries(data, limit) if data.qrels.get(q)]
        for query_id in asked:
            s = searcher.signals(data.queries[query_id])
            if s.translated is not None:  # other languages have their own fusion
                continue
            stored = generation.passage_rows([int(r) for r in s.rows])
            relevant = np.array([
                bool(data.corpus_ids(stored[int(r)].article_id,
                                     stored[int(r)].text[searcher.answer_offset(int(r)):])
                     & data.qrels[query_id])
                for r in s.rows
            ])  # fmt: skip
            keys = generation.passage_keys[s.rows]
            questions.append(Question(folder.name, half(query_id), s, relevant, keys))
        print(f"{folder.name}: {len(asked)} questions", file=sys.stderr, flush=True)
    return questions


def fit(questions: list[Question], names: tuple[str, ...], start: Matrix, penalty: float) -> Matrix:
    """Gradient descent on the softmax cross-entropy of the relevant candidates."""
    sets = sorted({q.dev_set for q in questions})
    data = [(features(q.signals, names), q.relevant, 1.0 / sum(p.dev_set == q.dev_set
             for p in questions) / len(sets)) for q in questions if q.relevant.any()]  # fmt: skip
    w = start.copy()
    for _ in range(400):
        gradient = penalty * (w - start)
        for x, relevant, weight in data:
            scores = x @ w
            p = np.exp(scores - scores.max())
            p /= p.sum()
            gradient += weight * (x.T @ (p - relevant / relevant.sum()))
        w -= 0.2 * gradient
    return w


def hits(questions: list[Question], names: tuple[str, ...], w: Matrix) -> tuple[float, float]:
    one = five = 0
    for q in questions:
        order = np.lexsort((q.keys, -(features(q.signals, names) @ w)))
        one += bool(q.relevant[order[0]])
        five += bool(q.relevant[order[:5]].any())
    return one / max(len(questions), 1), five / max(len(questions), 1)


def report(questions: list[Question], names: tuple[str, ...], w: Matrix, label: str) -> str:
    cells = []
    for dev_set in sorted({q.dev_set for q in questions}):
        for part in ("fit", "held-out"):
            chosen = [q for q in questions if q.dev_set == dev_set and q.half == part]
            one, five = hits(chosen, names, w)
            cells.append(f"{dev_set} {part} {one:.3f}/{five:.3f} (n={len(chosen)})")
    line = f"{label}: " + "; ".join(cells)
    print(line, flush=True)
    return "; ".join(cells)


def vector(weights: Weights, names: tuple[str, ...]) -> Matrix:
    return np.array([getattr(weights, name) for name in names], np.float64)


def choose(questions: list[Question], names: tuple[str, ...], start: Weights) -> Weights:
    """The weights with the best mean hit@1 (then hit@5) over the fit halves: the shipped ones,
    or a refit with one of the penalties."""
    fitting = [q for q in questions if q.half == "fit"]
    dev_sets = sorted({q.dev_set for q in fitting})
    candidates = [("shipped", vector(start, names))] + [
        (f"penalty {penalty}", fit(fitting, names, vector(start, names), penalty))
        for penalty in PENALTIES
    ]
    best: tuple[tuple[float, float], Matrix] | None = None
    for label, w in candidates:
        per_set = [hits([q for q in fitting if q.dev_set == s], names, w) for s in dev_sets]
        score = (float(np.mean([h[0] for h in per_set])), float(np.mean([h[1] for h in per_set])))
        print(f"  {label}: fit-half mean hit@1/hit@5 {score[0]:.3f}/{score[1]:.3f}")
        if best is None or score > best[0]:
            best = (score, w)
    assert best is not None
    values = {name: round(float(v), 3) for name, v in zip(names, best[1], strict=True)}
    return dataclasses.replace(start, **values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", action="append", required=True, metavar="FOLDER:INDEX")
    parser.add_argument("--limit", type=int, help="questions per set at most (seeded sample)")
    parser.add_argument("--write", action="store_true", help="store both in weights.json")
    args = parser.parse_args()
    sets = [(Path(a), Path(b)) for a, b in (item.split(":", 1) for item in args.set)]
    questions = collect(sets, args.limit)
    current = shipped()
    fitted: dict[str, tuple[Weights, str]] = {}
    for entry, names in (("english_weights", BASE),
                         ("english_multilingual_weights", WITH_MULTILINGUAL)):  # fmt: skip
        start = getattr(current, entry).value
        report(questions, names, vector(start, names), f"{entry} shipped")
        chosen = choose(questions, names, start)
        fitted[entry] = (chosen, report(questions, names, vector(chosen, names), entry))
        print(f"{entry}: {chosen}")
    if args.write:
        command = "python -m benchmarks.fit_fusion " + shlex.join(sys.argv[1:])
        folders = ", ".join(folder.name for folder, _ in sets)
        replaced = {
            entry: Fitted(weights, Provenance(
                fitted_on=f"Listwise softmax over the engine's candidates on the fit half (query "
                          f"ids hashed by crc32) of {folders}, each set weighing the same; L2 "
                          "towards the previous weights, chosen on the fit half.",
                checked_on=f"hit@1/hit@5 over the candidates, fit and held-out halves: {scores}",
                command=command,
                date=dt.date.today().isoformat(),
            ))
            for entry, (weights, scores) in fitted.items()
            if weights != getattr(current, entry).value  # kept weights keep their provenance
        }  # fmt: skip
        write(dataclasses.replace(current, **replaced))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
