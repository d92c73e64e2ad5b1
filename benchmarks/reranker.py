"""A cross-encoder reranker fine-tuned from the bundled MiniLM weights, trained on the briefing
archive's own questions and answers: prepared here, trained once on a lent GPU.

Here (writes what travels to the GPU machine, under 64 MiB: the engine's top 30 candidates for
every question of squad-dev, news-dev and news-said-dev, their passages, the briefing
conversations, and an fp16 copy of the model):

    python -m benchmarks.reranker candidates OUT --eval-dir ../shared/eval \
        --squad-index DIR --news-index DIR \
        --briefings ../shared/corpora/wh-briefings.tar.xz \
        --sample ../shared/corpora/news-sample.jsonl [--pairs 40000]

(the indexes of `squad-dev` and of the news sample, e.g. from `newsdesk eval --keep-index`,
built with the default encoders; OUT comes to about 57 MiB, 45 of them the model.) There, with
torch and transformers only (the z-scores and hit rates are newsdesk's own, loaded from their
files), OUT copied into a folder `.reranker` of the checkout that `.git/info/exclude` ignores
and that the device run carries:

    PYTHONUNBUFFERED=1 python3 -m benchmarks.reranker train .reranker [--epochs 2] [--limit N]
        [--eval-limit N] [--batch 32]

(`--limit 16 --eval-limit 16 --epochs 1` is a smoke test that runs on a CPU in a minute; on a
CPU, `--limit 6000 --eval-limit 300 --batch 8 --epochs 1` trains on a subsample in about 40
minutes on 2 cores, the news sets evaluated whole and SQuAD on 300 questions of each part.)

Training data: each reporter's question in the briefings against the official's answer and
other turns of the same briefing (`benchmarks.briefing_pairs`; every document of the news
sample left out), plus the SQuAD dev questions about the even-numbered articles except 20 and
22. How many candidates to rerank and how much the reranker counts are chosen on SQuAD
articles 20 and 22 and on the fit halves (query ids hashed by crc32) of news-dev and
news-said-dev; the other halves and the odd-numbered SQuAD articles, never trained or chosen
on, are reported. The reranker reads `question [SEP] title. window`, the window being at most
`budget` characters of the passage around the engine's best sentence. Loss: softmax over the
right passage and the group's wrong ones. The trained weights come back split into parts
small enough to return from the machine (`reranker-part-*`).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

from benchmarks.standalone import load_module

DEV_ARTICLES = {20, 22}
DEPTH = 30  # candidates kept per question
GROUP = 8  # the right passage and 7 wrong ones per training question
NEWS_SETS = ("news-dev", "news-said-dev")
PART = 15 * 2**20  # the device machine returns files of at most 16 MiB
# (max tokens, window characters): what a CPU can afford for a few candidates per question.
TOKENS, BUDGET = 192, 720


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, dest="command")
    candidates = commands.add_parser("candidates", help="dump what training needs (here)")
    candidates.add_argument("out", type=Path)
    candidates.add_argument(
        "--eval-dir", type=Path, required=True, help="holds squad-dev, news-dev, news-said-dev"
    )
    candidates.add_argument("--squad-index", type=Path, required=True)
    candidates.add_argument("--news-index", type=Path, required=True)
    candidates.add_argument("--briefings", type=Path, required=True, help="archive or folder")
    candidates.add_argument("--sample", type=Path, required=True, help="news-sample.jsonl")
    candidates.add_argument("--pairs", type=int, default=40_000, help="briefing questions")
    train = commands.add_parser("train", help="fine-tune and evaluate (on a GPU)")
    train.add_argument("folder", type=Path)
    train.add_argument("--epochs", type=int, default=2)
    train.add_argument("--limit", type=int, help="train on N questions (a CPU's subsample)")
    train.add_argument("--eval-limit", type=int, help="evaluate N questions of each set")
    train.add_argument("--batch", type=int, default=32, help="questions per step")
    args = parser.parse_args()
    if args.command == "candidates":
        return _candidates(args)
    return _train(args.folder, args.epochs, args.limit, args.eval_limit, args.batch)


def _candidates(args: argparse.Namespace) -> int:
    import tempfile

    from safetensors.torch import load_file, save_file

    from benchmarks import briefing_pairs
    from benchmarks.common import shuffled_markdown, unpacked
    from benchmarks.fit_fusion import half  # the same halves the fusion weights were fitted on
    from embeddings.index.stores import open_store
    from embeddings.models.encoder import load_encoder, load_multilingual, resolve_model
    from embeddings.ranking.evaluate import load_beir
    from embeddings.ranking.search import Searcher

    args.out.mkdir(parents=True, exist_ok=True)
    cache = args.out.parent / "reranker-encoders"
    encoder = load_encoder("onnx-int8", cache_dir=cache)
    multilingual = load_multilingual("onnx-int8", cache_dir=cache)
    sets = (("squad-dev", args.squad_index), *((name, args.news_index) for name in NEWS_SETS))
    for name, index in sets:
        data = load_beir(args.eval_dir / name)
        generation = open_store(index).open_current(encoder.name, encoder.dimension)
        searcher = Searcher(generation, encoder, multilingual=multilingual)
        passages: dict[str, dict[str, str]] = {}
        with gzip.open(args.out / f"{name}.jsonl.gz", "wt", encoding="utf-8") as out:
            for qid, question in data.queries.items():
                if not data.qrels.get(qid):
                    continue
                ranking = searcher.rank(question)
                rows = [int(r) for r in ranking.rows[:DEPTH]]
                stored = generation.passage_rows(rows)
                labels, best = [], []
                for i, row in enumerate(rows):
                    opens = searcher.answer_offset(row)
                    shown = stored[row].text[opens:]
                    passages[str(row)] = {"title": stored[row].title, "text": shown}
                    held = data.corpus_ids(stored[row].article_id, shown)
                    labels.append(bool(held & data.qrels[qid]))
                    start, end = generation.sentence_spans[int(ranking.best_sentence[i])]
                    best.append((int(start) - opens, int(end) - opens))
                record = {
                    "id": qid,
                    "half": half(qid),
                    "question": question,
                    "rows": rows,
                    "fused": [round(float(f), 5) for f in ranking.fused[:DEPTH]],
                    "best": best,
                    "gold": sorted(data.qrels[qid]),
                    "label": labels,
                }
                out.write(json.dumps(record) + "\n")
        with gzip.open(args.out / f"{name}.passages.json.gz", "wt", encoding="utf-8") as out:
            out.write(json.dumps(passages))
        generation.close()
        print(f"{name}: {len(data.queries)} questions", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpacked(args.briefings, Path(scratch))
        found = briefing_pairs.conversations(
            shuffled_markdown(folder), args.sample, encoder.count_tokens, encoder.max_tokens
        )
        written, asked = briefing_pairs.write(found, args.out / "briefings.jsonl.gz", args.pairs)
    print(f"briefings: {asked} questions from {written} conversations", flush=True)
    _, model = resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    target = args.out / "model-fp16"
    target.mkdir(exist_ok=True)
    for file in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                 "special_tokens_map.json"):  # fmt: skip
        (target / file).write_bytes((model / file).read_bytes())
    weights = load_file(str(model / "model.safetensors"))
    save_file({k: v.half() for k, v in weights.items()}, str(target / "model.safetensors"))
    return 0


def window(text: str, best: tuple[int, int], budget: int) -> str:
    """At most `budget` characters of `text` centred on its best sentence, cut at spaces."""
    if len(text) <= budget:
        return text
    centre = (best[0] + best[1]) // 2
    start = max(0, min(centre - budget // 2, len(text) - budget))
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = start + budget
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > end - 30 else end
    return text[start:end]


Example = tuple[str, list[str]]  # a question and its texts, the right one first


def briefing_examples(path: Path, rng: random.Random) -> list[Example]:
    """Each briefing question with its answer, up to GROUP - 2 other passages of its briefing
    and one of another briefing (titles lead every text, as in the candidates)."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        conversations = [json.loads(line) for line in lines]
    examples: list[Example] = []
    for n, talk in enumerate(conversations):
        texts = [f"{talk['title']}. {window(text, (0, 0), BUDGET)}" for text in talk["texts"]]
        elsewhere = conversations[(n + 1) % len(conversations)]
        for question, answer in talk["pairs"]:
            others = texts[:answer] + texts[answer + 1 :]
            wrong = rng.sample(others, min(GROUP - 2, len(others)))
            wrong.append(f"{elsewhere['title']}. {rng.choice(elsewhere['texts'])[:BUDGET]}")
            wrong += rng.choices(others, k=GROUP - 1 - len(wrong))
            examples.append((question, [texts[answer], *wrong]))
    return examples


def candidate_examples(questions: list[dict[str, Any]], passages: Any,
                       rng: random.Random) -> list[Example]:  # fmt: skip
    """Each question with its right candidate and the engine's best wrong ones."""
    examples: list[Example] = []
    for q in questions:
        if not any(q["label"]):
            continue
        right = q["label"].index(True)
        wrong = [i for i, good in enumerate(q["label"]) if not good]
        picks = wrong[: GROUP - 3] + rng.sample(wrong[GROUP - 3 :], min(2, len(wrong[GROUP - 3 :])))
        picks += rng.choices(wrong, k=GROUP - 1 - len(picks))
        texts = [_text(q, i, passages) for i in [right, *picks]]
        examples.append((q["question"], texts))
    return examples


def _text(q: dict[str, Any], i: int, passages: Any) -> str:
    p = passages[str(q["rows"][i])]
    return f"{p['title']}. {window(p['text'], tuple(q['best'][i]), BUDGET)}"


def _train(
    folder: Path, epochs: int, limit: int | None, eval_limit: int | None, per_batch: int
) -> int:
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    fusion = load_module("embeddings/ranking/fusion.py")
    rng = random.Random(0)
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model_dir = folder / "model-fp16"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def load(name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with gzip.open(folder / f"{name}.jsonl.gz", "rt", encoding="utf-8") as lines:
            questions = [json.loads(line) for line in lines]
        with gzip.open(folder / f"{name}.passages.json.gz", "rt", encoding="utf-8") as text:
            return questions, json.loads(text.read())

    def article(q: dict[str, Any]) -> int:
        return int(q["gold"][0].split("-")[1])  # squad-<article>-<paragraph>

    squad, squad_passages = load("squad-dev")
    news = {name: load(name) for name in NEWS_SETS}
    squad_train = [q for q in squad if article(q) % 2 == 0 and article(q) not in DEV_ARTICLES]
    train_set = briefing_examples(folder / "briefings.jsonl.gz", rng)
    train_set += candidate_examples(squad_train, squad_passages, rng)
    rng.shuffle(train_set)
    if limit:
        train_set = train_set[:limit]
    chosen_on = {"squad 20, 22": ([q for q in squad if article(q) in DEV_ARTICLES], squad_passages)}
    reported = {"squad odd": ([q for q in squad if article(q) % 2 == 1], squad_passages)}
    for name, (questions, passages) in news.items():
        chosen_on[f"{name} fit"] = ([q for q in questions if q["half"] == "fit"], passages)
        reported[f"{name} held-out"] = ([q for q in questions if q["half"] != "fit"], passages)
    sets = {**chosen_on, **reported}
    if eval_limit:
        sets = {name: (qs[:eval_limit], p) for name, (qs, p) in sets.items()}
        chosen_on = {name: sets[name] for name in chosen_on}
    print(f"train {len(train_set)}, " + ", ".join(f"{k} {len(v[0])}" for k, v in sets.items()))

    def encode(questions: list[str], texts: list[str]) -> Any:
        return tokenizer(
            questions, texts, truncation="only_second", max_length=TOKENS, padding=True,
            return_tensors="pt",
        ).to(device)  # fmt: skip

    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=1, dtype=torch.float32
    )
    model.to(device).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
    steps = epochs * -(-len(train_set) // per_batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / (0.05 * steps)) * max(0.0, (steps - s) / steps)
    )
    for epoch in range(epochs):
        rng.shuffle(train_set)
        total = 0.0
        for start in range(0, len(train_set), per_batch):
            batch = train_set[start : start + per_batch]
            asked = [q for q, group in batch for _ in group]
            shown = [text for _, group in batch for text in group]
            with torch.autocast(device.type, dtype=torch.bfloat16):
                logits = model(**encode(asked, shown)).logits.float().view(-1, GROUP)
            target = torch.zeros(len(logits), dtype=torch.long, device=device)
            loss = torch.nn.functional.cross_entropy(logits, target)
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total += loss.item()
        print(f"epoch {epoch} loss {total / max(1, steps // epochs):.3f}", flush=True)
    model.eval()

    @torch.no_grad()
    def scores(questions: list[dict[str, Any]], passages: Any) -> list[Any]:
        flat: tuple[list[str], list[str]] = ([], [])
        for q in questions:
            flat[0].extend([q["question"]] * len(q["rows"]))
            flat[1].extend(_text(q, i, passages) for i in range(len(q["rows"])))
        logits = []
        for s in range(0, len(flat[0]), 1024):
            with torch.autocast(device.type, dtype=torch.bfloat16):
                out = model(**encode(flat[0][s : s + 1024], flat[1][s : s + 1024]))
            logits.append(out.logits.float().squeeze(-1).cpu().numpy())
        values = np.concatenate(logits)
        bounds = np.cumsum([0] + [len(q["rows"]) for q in questions])
        return [values[a:b] for a, b in itertools.pairwise(bounds)]

    def hit_rates(questions: list[dict[str, Any]], reranked: list[Any], passages: Any,
                  k: int, weight: float | None) -> tuple[float, float]:  # fmt: skip
        """hit@1 and hit@5 with the first k candidates reordered: by the reranker alone
        (weight None), or by z(engine) + weight * z(reranker)."""
        one = five = 0
        for q, rr in zip(questions, reranked, strict=True):
            n = min(k, len(q["rows"]))
            fused = np.array(q["fused"][:n], dtype=np.float32)
            combined = (
                rr[:n]
                if weight is None
                else fusion.zscore(fused) + weight * fusion.zscore(rr[:n].astype(np.float32))
            )
            order = [*np.argsort(-combined, kind="stable"), *range(n, len(q["rows"]))]
            # A hit is a candidate labelled right (the paragraph, for the news sets).
            one += q["label"][order[0]]
            five += any(q["label"][i] for i in order[:5])
        return one / max(1, len(questions)), five / max(1, len(questions))

    reranked = {name: scores(qs, p) for name, (qs, p) in sets.items()}
    rows = []
    for k in (3, 5, 8, 10, 20):
        for weight in (None, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0):
            row: dict[str, Any] = {"k": k, "w": weight}
            for name, (qs, p) in sets.items():
                row[name] = hit_rates(qs, reranked[name], p, k, weight)
            rows.append(row)
    best = max(rows, key=lambda r: float(np.mean([r[name][0] for name in chosen_on])))
    print(f"engine alone: {json.dumps(rows[1])}")
    print(f"chosen on {', '.join(chosen_on)}: {json.dumps(best)}", flush=True)
    out = Path(os.environ.get("OUT", folder))
    (out / "reranker-results.json").write_text(json.dumps(rows))
    _save_in_parts(model, out)
    return 0


def _save_in_parts(model: Any, out: Path) -> None:
    """The trained weights (fp16 safetensors) in parts the device machine can return; here,
    `cat reranker-part-* > model.safetensors` beside model-fp16's config puts them back."""
    from safetensors.torch import save

    blob = save({k: v.half().contiguous() for k, v in model.state_dict().items()})
    for n, start in enumerate(range(0, len(blob), PART)):
        (out / f"reranker-part-{n}").write_bytes(blob[start : start + PART])


if __name__ == "__main__":
    sys.exit(main())
