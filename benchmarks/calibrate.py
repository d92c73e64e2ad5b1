"""Fit when newsdesk declines, print the decline curve, and with --write ship the fit.

What is fitted: the english_calibration, english_multilingual_calibration and
crosslingual_calibration entries of embeddings/ranking/weights.json.

The question a decline answers is "does this archive hold the answer at all?". Examples:

- answerable: news-dev questions with a gold paragraph, against the shipped archive (data/);
  SQuAD dev questions against the SQuAD paragraphs; XQuAD (German, Spanish, Vietnamese)
  questions against the SQuAD paragraphs;
- absent: SQuAD and XQuAD questions against the news archive, news-dev questions against the
  SQuAD paragraphs (the topic is not in that archive at all).

English questions are scored from MiniLM's signals of the top passage (dense, best sentence,
rare-word coverage), plus the multilingual model's similarity of that passage where the index
holds its vectors (the ranking then uses it too); questions in other languages from the
multilingual similarity of the top passage. Each model is fitted on one seeded half; the
threshold is the highest that declines at most 4% of that half's answerable questions; each is
then scored on the other half. Finally
everything is refitted on all examples for the values to ship; `--write` writes them, with
what they were fitted and checked on, into weights.json.

    python -m benchmarks.calibrate --eval-dir DIR [--limit 1500] [--news-index DIR]
        [--squad-index DIR] [--write]

`--eval-dir` holds the BEIR folders news-dev, squad-dev and xquad-crosslingual-dev.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import random
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import SHIPPED_DATA
from embeddings import SentenceTransformerEncoder
from embeddings.index.directory.generation import open_current
from embeddings.index.indexer import build_from_articles, build_index
from embeddings.index.stores import open_store
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.ranking.evaluate import load_beir, sample_queries
from embeddings.ranking.fusion import (
    Calibration,
    CurvePoint,
    decline_curve,
    fit_logistic,
    pick_threshold,
)
from embeddings.ranking.search import Searcher
from embeddings.ranking.weights import Fitted, Provenance, shipped, write
from embeddings.text.language import is_english

ENGLISH = ["dense", "sentence", "coverage"]
ENGLISH_MULTILINGUAL = [*ENGLISH, "multilingual"]
CROSSLINGUAL = ["translated", "sentence", "margin"]
MAX_ANSWERABLE_DECLINED = 0.04  # fitted to 4% so the held-out half stays under 5%
Row = dict[str, float]


def features(searcher: Searcher, question: str) -> Row:
    ranking = searcher.rank(question)
    row = int(ranking.rows[0])
    passage = searcher.generation.passage_rows([row])[row]
    return searcher.decline_features(ranking, f"{passage.title}\n{passage.text}")


def group(searcher: Searcher, questions: Sequence[str], answerable: bool) -> list[Row]:
    rows = [features(searcher, q) for q in questions]
    for row in rows:
        row["answerable"] = float(answerable)
    return rows


def fit(rows: list[Row], names: list[str]) -> Calibration:
    labels = [int(r["answerable"]) for r in rows]
    weights, bias = fit_logistic(rows, labels, names)
    unthresholded = Calibration(weights, bias, 0.5)
    probabilities = [unthresholded.probability(r) for r in rows]
    threshold = pick_threshold(
        probabilities, [r["answerable"] == 1.0 for r in rows], MAX_ANSWERABLE_DECLINED
    )
    return Calibration(
        {k: round(v, 3) for k, v in weights.items()}, round(bias, 3), round(threshold, 3)
    )


def report(title: str, rows: list[Row], calibration: Calibration) -> CurvePoint:
    """Prints, and returns, what the calibration declines among `rows`."""
    probabilities = [calibration.probability(r) for r in rows]
    answerable = [r["answerable"] == 1.0 for r in rows]
    [point] = decline_curve(probabilities, answerable, [calibration.threshold])
    print(
        f"{title:<46} n={len(rows):>5}  answerable declined {point.answerable_declined:6.1%}  "
        f"absent declined {point.absent_declined:6.1%}"
    )
    return point


def curve(rows: list[Row], calibration: Calibration) -> None:
    probabilities = [calibration.probability(r) for r in rows]
    answerable = [r["answerable"] == 1.0 for r in rows]
    thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, calibration.threshold]
    print(f"    {'threshold':>9}  {'answerable declined':>19}  {'absent declined':>15}")
    for p in sorted(
        decline_curve(probabilities, answerable, thresholds), key=lambda p: p.threshold
    ):
        mark = "  <- shipped" if p.threshold == calibration.threshold else ""
        print(
            f"    {p.threshold:>9.3f}  {p.answerable_declined:>19.1%}  "
            f"{p.absent_declined:>15.1%}{mark}"
        )


def calibrate(
    name: str, groups: dict[str, list[Row]], names: list[str], command: str
) -> Fitted[Calibration]:
    """Fitted on one seeded half and scored on the other, then refitted on everything: the
    refit, with that provenance."""
    everything = [row for rows in groups.values() for row in rows]
    random.Random(7).shuffle(everything)
    half = len(everything) // 2
    fitted = fit(everything[:half], names)
    print(f"\n== {name}: fitted on one half ({half}), scored on the other")
    held_out = report("held-out half", everything[half:], fitted)
    curve(everything[half:], fitted)
    final = fit(everything, names)
    print(f"   refitted on everything ({len(everything)}), per group:")
    for title, rows in groups.items():
        report(title, rows, final)
    print("   to ship:", json.dumps({"coefficients": final.coefficients,
                                      "intercept": final.intercept,
                                      "threshold": final.threshold}))  # fmt: skip
    groups_seen = "; ".join(f"{title}: {len(rows)}" for title, rows in groups.items())
    return Fitted(
        final,
        Provenance(
            fitted_on=(
                f"All {len(everything)} examples ({groups_seen}). Threshold: the highest "
                f"declining at most {MAX_ANSWERABLE_DECLINED:.0%} of answerable questions."
            ),
            checked_on=(
                f"Fitted first on one seeded half and scored on the other "
                f"({len(everything) - half} examples): "
                f"{held_out.answerable_declined:.1%} of answerable questions declined, "
                f"{held_out.absent_declined:.1%} of absent-topic questions declined."
            ),
            command=command,
            date=dt.datetime.now(dt.UTC).date().isoformat(),
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--eval-dir",
        type=Path,
        required=True,
        help="holds news-dev, squad-dev and xquad-crosslingual-dev",
    )
    parser.add_argument("--limit", type=int, default=1500, help="SQuAD and XQuAD questions")
    parser.add_argument("--news-index", type=Path, help="index of data/ (built when absent)")
    parser.add_argument("--squad-index", type=Path, help="index of the SQuAD corpus")
    parser.add_argument(
        "--write", action="store_true", help="write the refitted calibrations into weights.json"
    )
    args = parser.parse_args()
    command = shlex.join(["python", "-m", "benchmarks.calibrate", *sys.argv[1:]])
    encoder = SentenceTransformerEncoder()
    multilingual = MultilingualEncoder()
    news = load_beir(args.eval_dir / "news-dev")
    squad = load_beir(args.eval_dir / "squad-dev")
    xquad = load_beir(args.eval_dir / "xquad-crosslingual-dev")
    with tempfile.TemporaryDirectory() as scratch:
        news_index = args.news_index or Path(scratch) / "news"
        squad_index = args.squad_index or Path(scratch) / "squad"
        if not (news_index / "CURRENT").exists():
            build_index([SHIPPED_DATA], open_store(news_index), encoder, multilingual=multilingual)
        if not (squad_index / "CURRENT").exists():
            build_from_articles(
                squad.corpus, open_store(squad_index), encoder, multilingual=multilingual
            )
        generations = {
            name: open_current(path, encoder.name, encoder.dimension)
            for name, path in (("news", news_index), ("squad", squad_index))
        }
        # English questions ranked with MiniLM alone (an English-only index) and with the
        # multilingual model's similarity too (an index holding its vectors).
        english_only = {name: Searcher(g, encoder) for name, g in generations.items()}
        searchers = {name: Searcher(g, encoder, multilingual=multilingual)
                     for name, g in generations.items()}  # fmt: skip
        on_news = functools.partial(group, searchers["news"])
        on_squad = functools.partial(group, searchers["squad"])
        answerable_news = [news.queries[q] for q in news.queries if news.qrels.get(q)]
        squad_questions = [squad.queries[q] for q in sample_queries(squad, args.limit)]
        xquad_questions = [xquad.queries[q] for q in sample_queries(xquad, args.limit)]
        xquad_questions = [q for q in xquad_questions if not is_english(q)]
        answerable_english = [q for q in answerable_news if is_english(q)]
        english_news = [q for q in news.queries.values() if is_english(q)]

        def english_groups(searcher: dict[str, Searcher]) -> dict[str, list[Row]]:
            return {
                "news-dev on the news archive": group(searcher["news"], answerable_english, True),
                "SQuAD on SQuAD": group(searcher["squad"], squad_questions, True),
                "SQuAD on the news archive (absent)": group(
                    searcher["news"], squad_questions, False
                ),
                "news-dev on SQuAD (absent)": group(searcher["squad"], english_news, False),
            }

        crosslingual = {
            "news-dev, other languages, on the news archive": on_news(
                [q for q in answerable_news if not is_english(q)], True
            ),
            "XQuAD on SQuAD": on_squad(xquad_questions, True),
            "XQuAD on the news archive (absent)": on_news(xquad_questions, False),
        }
        near_misses = [news.queries[q] for q in news.queries if not news.qrels.get(q)]
        english_fit = calibrate(
            "English questions, MiniLM only", english_groups(english_only), ENGLISH, command
        )
        multilingual_fit = calibrate(
            "English questions, with the multilingual model",
            english_groups(searchers),
            ENGLISH_MULTILINGUAL,
            command,
        )
        crosslingual_fit = calibrate(
            "Questions in other languages", crosslingual, CROSSLINGUAL, command
        )
        calibration = multilingual_fit.value
        declined = sum(
            calibration.probability(row) < calibration.threshold
            for row in on_news(near_misses, False)
        )
        print(
            f"\nnews-dev's unanswerable questions (the topic is in the archive, the fact is not): "
            f"{declined} of {len(near_misses)} declined"
        )
    if args.write:
        write(
            dataclasses.replace(
                shipped(),
                english_calibration=english_fit,
                english_multilingual_calibration=multilingual_fit,
                crosslingual_calibration=crosslingual_fit,
            )
        )
        print("written to embeddings/ranking/weights.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
