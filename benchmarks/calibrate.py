"""Fit when newsdesk declines, print the decline curve, and with --write ship the fit.

What is fitted: the english_calibration, english_multilingual_calibration and
crosslingual_calibration entries of embeddings/ranking/weights.json.

The question a decline answers is "does this archive hold the answer at all?". Examples:

- answerable: the questions of news-dev, news-said-dev and news-time-dev that have a gold
  paragraph, against the shipped archive (data/); SQuAD dev questions against the SQuAD
  paragraphs; XQuAD (German, Spanish, Vietnamese) questions against the SQuAD paragraphs;
- absent: SQuAD and XQuAD questions against the news archive, the news sets' questions against
  the SQuAD paragraphs (the topic is not in that archive at all).

English questions are scored from MiniLM's signals of the top passage (dense, best sentence,
rare-word coverage), plus the multilingual model's similarity of that passage where the index
holds its vectors (the ranking then uses it too); questions in other languages from the
multilingual similarity of the top passage. The threshold is the highest that declines at most
4% of *each* set of answerable questions: pooled, SQuAD's thousand questions would let a news
set's paraphrases be declined unseen. Each model is fitted on one seeded half of every set and
scored on the other halves; then everything is refitted on all examples for the values to ship;
`--write` writes them, with what they were fitted and checked on, into weights.json.

    python -m benchmarks.calibrate --eval-dir DIR [--limit 1500] [--news-index DIR]
        [--squad-index DIR] [--encoder onnx-int8] [--encoder-cache DIR] [--write]

`--eval-dir` holds the BEIR folders news-dev, news-said-dev, news-time-dev, squad-dev and
xquad-crosslingual-dev. The encoders are the product's default unless `--encoder` says
otherwise; an index given must have been built with them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import math
import random
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import SHIPPED_DATA, add_encoder_options
from embeddings.index.directory.generation import open_current
from embeddings.index.indexer import build_from_articles, build_index
from embeddings.index.stores import open_store
from embeddings.models.encoder import load_encoder, load_multilingual
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
NEWS_SETS = ("news-dev", "news-said-dev", "news-time-dev")
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


def fit(groups: dict[str, list[Row]], names: list[str]) -> Calibration:
    rows = [row for group in groups.values() for row in group]
    labels = [int(r["answerable"]) for r in rows]
    weights, bias = fit_logistic(rows, labels, names)
    unthresholded = Calibration(weights, bias, 0.5)
    threshold = min(
        pick_threshold(
            [unthresholded.probability(r) for r in group], [True] * len(group),
            MAX_ANSWERABLE_DECLINED,
        )
        for group in groups.values()
        if group and all(r["answerable"] == 1.0 for r in group)
    )  # fmt: skip
    # Rounded down: rounding up could decline the question the threshold was picked to keep.
    return Calibration(
        {k: round(v, 3) for k, v in weights.items()},
        round(bias, 3),
        math.floor(threshold * 1000) / 1000,
    )


def halves(groups: dict[str, list[Row]]) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
    """Each group split into two seeded halves: the first for fitting, the second held out."""
    first, second = {}, {}
    for title, rows in groups.items():
        shuffled = list(rows)
        random.Random(7).shuffle(shuffled)
        first[title], second[title] = shuffled[: len(rows) // 2], shuffled[len(rows) // 2 :]
    return first, second


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
    """Fitted on one seeded half of each group and scored on the other halves, then refitted
    on everything: the refit, with that provenance."""
    fit_half, held_half = halves(groups)
    fitted = fit(fit_half, names)
    print(f"\n== {name}: fitted on one half of each group, scored on the other halves")
    points = {title: report(f"held out: {title}", rows, fitted)
              for title, rows in held_half.items()}  # fmt: skip
    held_out = [row for rows in held_half.values() for row in rows]
    overall = report("held out, all groups", held_out, fitted)
    curve(held_out, fitted)
    worst = max(
        (points[title].answerable_declined, title)
        for title, rows in held_half.items()
        if rows and all(r["answerable"] == 1.0 for r in rows)
    )
    final = fit(groups, names)
    everything = [row for rows in groups.values() for row in rows]
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
                f"declining at most {MAX_ANSWERABLE_DECLINED:.0%} of each group of answerable "
                "questions."
            ),
            checked_on=(
                f"Fitted first on one seeded half of each group and scored on the other halves "
                f"({len(held_out)} examples): "
                f"{overall.answerable_declined:.1%} of answerable questions declined "
                f"(at most {worst[0]:.1%}, {worst[1]}), "
                f"{overall.absent_declined:.1%} of absent-topic questions declined."
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
        help=f"holds {', '.join(NEWS_SETS)}, squad-dev and xquad-crosslingual-dev",
    )
    parser.add_argument("--limit", type=int, default=1500, help="SQuAD and XQuAD questions")
    parser.add_argument("--news-index", type=Path, help="index of data/ (built when absent)")
    parser.add_argument("--squad-index", type=Path, help="index of the SQuAD corpus")
    add_encoder_options(parser)
    parser.add_argument(
        "--write", action="store_true", help="write the refitted calibrations into weights.json"
    )
    args = parser.parse_args()
    command = shlex.join(["python", "-m", "benchmarks.calibrate", *sys.argv[1:]])
    news_sets = {name: load_beir(args.eval_dir / name) for name in NEWS_SETS}
    squad = load_beir(args.eval_dir / "squad-dev")
    xquad = load_beir(args.eval_dir / "xquad-crosslingual-dev")
    with tempfile.TemporaryDirectory() as scratch:
        cache = args.encoder_cache or Path(scratch) / "encoders"
        encoder = load_encoder(args.encoder, cache_dir=cache)
        multilingual = load_multilingual(args.encoder, cache_dir=cache)
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
        answerable = {name: [d.queries[q] for q in d.queries if d.qrels.get(q)]
                      for name, d in news_sets.items()}  # fmt: skip
        squad_questions = [squad.queries[q] for q in sample_queries(squad, args.limit)]
        xquad_questions = [xquad.queries[q] for q in sample_queries(xquad, args.limit)]
        xquad_questions = [q for q in xquad_questions if not is_english(q)]

        def english_groups(searcher: dict[str, Searcher]) -> dict[str, list[Row]]:
            groups: dict[str, list[Row]] = {}
            for name, data in news_sets.items():
                asked = [q for q in answerable[name] if is_english(q)]
                groups[f"{name} on the news archive"] = group(searcher["news"], asked, True)
                everything = [q for q in data.queries.values() if is_english(q)]
                groups[f"{name} on SQuAD (absent)"] = group(searcher["squad"], everything, False)
            groups["SQuAD on SQuAD"] = group(searcher["squad"], squad_questions, True)
            groups["SQuAD on the news archive (absent)"] = group(
                searcher["news"], squad_questions, False
            )
            return groups

        crosslingual = {
            "news sets, other languages, on the news archive": on_news(
                [q for name in NEWS_SETS for q in answerable[name] if not is_english(q)], True
            ),
            "XQuAD on SQuAD": on_squad(xquad_questions, True),
            "XQuAD on the news archive (absent)": on_news(xquad_questions, False),
        }
        near_misses = [d.queries[q] for d in news_sets.values() for q in d.queries
                       if not d.qrels.get(q)]  # fmt: skip
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
            f"\nthe news sets' unanswerable questions (the topic is in the archive, the fact is "
            f"not): {declined} of {len(near_misses)} declined"
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
