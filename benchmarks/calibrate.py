"""Fit the decline calibration (embeddings.search.DEFAULT_CALIBRATION) and report how it does.

Labelled examples, each "does the top passage answer this question?":

- news-dev questions against the shipped archive (data/): 1 when the top passage contains the
  gold paragraph, else 0 (the five unanswerable questions are always 0);
- SQuAD dev questions against the SQuAD paragraphs: 1 when the top passage is the gold one;
- SQuAD questions against the news archive, and news-dev questions against SQuAD: 0 (the
  answer is not in that archive at all: the case a user most needs declined).

The examples are split in two (seeded): the model is fitted on one half and scored on the
other, then refitted on everything for the coefficients to ship.

    python benchmarks/calibrate.py [--squad-limit 1500] [--news-index DIR] [--squad-index DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from embeddings import SentenceTransformerEncoder
from embeddings.evaluate import load_beir, sample_queries
from embeddings.fusion import Calibration, fit_logistic
from embeddings.indexer import build_from_articles, build_index
from embeddings.search import DEFAULT_CALIBRATION, Searcher
from embeddings.store import open_current

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "eval"
FEATURES = ["dense", "sentence", "coverage"]
AZERNEWS = ("azernews-wang-yi-patrushev", "000_ce1b1adc1bd8e6a9")


def examples(searcher: Searcher, questions: list[tuple[str, object]]) -> list[dict[str, float]]:
    """Features of the top passage for each question, with label 1 where `judge` accepts it."""
    rows = []
    for question, judge in questions:
        ranking = searcher.rank(question)
        top = searcher.generation.passage_rows([int(ranking.rows[0])])[int(ranking.rows[0])]
        text, _, article_id, title = top[0], top[1], top[2], top[3]
        row = searcher.decline_features(ranking, f"{title}\n{text}")
        row["label"] = float(judge(str(article_id), str(text)) if callable(judge) else 0)
        rows.append(row)
    return rows


def news_judge(gold: set[str], paragraphs: dict[str, str]) -> object:
    def judge(article_id: str, text: str) -> bool:
        for gold_id in gold:
            doc, _ = gold_id.split("#")
            doc = AZERNEWS[1] if doc == AZERNEWS[0] else doc
            if doc == article_id and paragraphs[gold_id][:80] in text:
                return True
        return False

    return judge


def squad_judge(gold: set[str]) -> object:
    return lambda article_id, text: article_id in gold


def report(name: str, rows: list[dict[str, float]], calibration: Calibration) -> None:
    answered = [calibration.probability(r) >= calibration.threshold for r in rows]
    labels = [r["label"] == 1.0 for r in rows]
    tp = sum(a and y for a, y in zip(answered, labels, strict=True))
    fp = sum(a and not y for a, y in zip(answered, labels, strict=True))
    fn = sum(not a and y for a, y in zip(answered, labels, strict=True))
    tn = sum(not a and not y for a, y in zip(answered, labels, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    print(
        f"{name:<34} n={len(rows):>5}  answered {tp + fp:>5} (right {tp}, wrong {fp})  "
        f"declined {fn + tn:>5} (answerable {fn}, rightly {tn})  "
        f"accuracy {(tp + tn) / max(len(rows), 1):.3f}  answered-precision {precision:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad-limit", type=int, default=1500)
    parser.add_argument("--news-index", type=Path, help="index of data/ (built when absent)")
    parser.add_argument("--squad-index", type=Path, help="index of the SQuAD corpus")
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder()
    news = load_beir(SHARED / "news-dev")
    squad = load_beir(SHARED / "squad-dev")
    with tempfile.TemporaryDirectory() as scratch:
        news_index = args.news_index or Path(scratch) / "news"
        squad_index = args.squad_index or Path(scratch) / "squad"
        if not (news_index / "CURRENT").exists():
            build_index([REPO / "data"], news_index, encoder)
        if not (squad_index / "CURRENT").exists():
            build_from_articles(squad.corpus, squad_index, encoder)
        news_searcher = Searcher(open_current(news_index, encoder.name, encoder.dimension), encoder)
        squad_searcher = Searcher(
            open_current(squad_index, encoder.name, encoder.dimension), encoder
        )
        paragraphs = {a.id: a.paragraphs[0] for a in news.corpus}
        news_questions = [
            (news.queries[q], news_judge(news.qrels.get(q, set()), paragraphs))
            for q in news.queries
        ]
        squad_ids = sample_queries(squad, args.squad_limit)
        groups = {
            "news-dev on the news archive": examples(news_searcher, news_questions),
            "SQuAD on SQuAD": examples(
                squad_searcher, [(squad.queries[q], squad_judge(squad.qrels[q])) for q in squad_ids]
            ),
            "SQuAD on the news archive (absent)": examples(
                news_searcher, [(squad.queries[q], None) for q in squad_ids]
            ),
            "news-dev on SQuAD (absent)": examples(
                squad_searcher, [(news.queries[q], None) for q in news.queries]
            ),
        }
    everything = [row for rows in groups.values() for row in rows]
    random.Random(7).shuffle(everything)
    half = len(everything) // 2
    weights, bias = fit_logistic(everything[:half], [int(r["label"]) for r in everything[:half]],
                                 FEATURES)  # fmt: skip
    held_out = Calibration(weights, bias, 0.5)
    print("Fitted on one half, scored on the other:")
    report("held-out half", everything[half:], held_out)
    weights, bias = fit_logistic(everything, [int(r["label"]) for r in everything], FEATURES)
    final = Calibration({k: round(v, 3) for k, v in weights.items()}, round(bias, 3), 0.5)
    print("\nFitted on everything, per group:")
    for name, rows in groups.items():
        report(name, rows, final)
    print("\nShipped calibration, per group:")
    for name, rows in groups.items():
        report(name, rows, DEFAULT_CALIBRATION)
    print("\nCoefficients to ship:")
    print(json.dumps({"coefficients": final.coefficients, "intercept": final.intercept}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
