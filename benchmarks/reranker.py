"""A cross-encoder reranker fine-tuned from the bundled MiniLM weights: the experiment behind
README "Tried and not shipped". It helped hit@1 by 1.3 points on held-out articles, too little
for its cost, so newsdesk does not ship it; this script reproduces the measurement.

Here (writes what travels to a GPU machine, about 52 MiB: the engine's top 30 candidates for
every squad-dev and news-dev question, the passages, and an fp16 copy of the model):

    python -m benchmarks.reranker candidates OUT --eval-dir DIR --squad-index DIR
        --news-index DIR

(`--eval-dir` holds the BEIR folders squad-dev and news-dev, e.g. ../shared/eval; the indexes
are of those two, e.g. from `newsdesk eval --keep-index`.) There, on a GPU (torch and
transformers only; the z-scores and hit rates are newsdesk's own, loaded from their files):

    python -m benchmarks.reranker train OUT

Split by SQuAD article (squad-dev has questions about articles 0-23): train on the even
articles except 20 and 22, choose how many candidates to rerank and how to combine the scores
on articles 20 and 22, report on the odd articles, never seen in training, and on news-dev's
answerable questions. The reranker reads `question [SEP] title. window`, where the window is at
most `budget` characters of the passage around the engine's best sentence (what a 128-token
input holds). Loss: softmax over the gold passage and 15 of the engine's own wrong candidates.
Word embeddings stay frozen (2,720 training questions are few).
"""

from __future__ import annotations

import argparse
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
GROUP = 16  # the gold passage and 15 wrong candidates per training question
# (layers kept, max tokens, window characters): the 128-token inputs are what a CPU can afford
# for a few candidates per question; 192 tokens checks whether more context would help. (A
# first run also tried the first 3 layers only: alone it ranked worse than BM25.)
VARIANTS = [(6, 128, 480), (6, 192, 720)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, dest="command")
    candidates = commands.add_parser("candidates", help="dump the engine's candidates (here)")
    candidates.add_argument("out", type=Path)
    candidates.add_argument(
        "--eval-dir", type=Path, required=True, help="holds the squad-dev and news-dev folders"
    )
    candidates.add_argument("--squad-index", type=Path, required=True)
    candidates.add_argument("--news-index", type=Path, required=True)
    train = commands.add_parser("train", help="fine-tune and evaluate (on a GPU)")
    train.add_argument("folder", type=Path)
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--limit", type=int, help="first N questions of each set (a smoke test)")
    args = parser.parse_args()
    if args.command == "candidates":
        return _candidates(args)
    return _train(args.folder, args.epochs, args.limit)


def _candidates(args: argparse.Namespace) -> int:
    from safetensors.torch import load_file, save_file

    from embeddings import SentenceTransformerEncoder
    from embeddings.index.directory.generation import open_current
    from embeddings.models.encoder import resolve_model
    from embeddings.ranking.evaluate import load_beir
    from embeddings.ranking.search import Searcher

    encoder = SentenceTransformerEncoder()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, index in (("squad-dev", args.squad_index), ("news-dev", args.news_index)):
        data = load_beir(args.eval_dir / name)
        generation = open_current(index, encoder.name, encoder.dimension)
        searcher = Searcher(generation, encoder)
        spans = {i: (a, b) for i, a, b in generation.query("SELECT id, start, end FROM sentences")}
        passages = {
            str(row): {"article": article, "title": title, "text": text}
            for row, article, text, title in generation.query(
                "SELECT p.id, p.article_id, p.text, a.title FROM passages p "
                "JOIN articles a ON a.id = p.article_id"
            )
        }
        (args.out / f"{name}.passages.json").write_text(json.dumps(passages))
        with open(args.out / f"{name}.jsonl", "w", encoding="utf-8") as out:
            for qid, question in data.queries.items():
                ranking = searcher.rank(question)
                rows = [int(r) for r in ranking.rows[:DEPTH]]
                gold = sorted(data.qrels.get(qid, {}))
                record = {
                    "question": question,
                    "rows": rows,
                    "fused": [round(float(f), 5) for f in ranking.fused[:DEPTH]],
                    "best": [spans[int(s)] for s in ranking.best_sentence[:DEPTH]],
                    "gold": gold,
                    "label": [passages[str(r)]["article"] in gold for r in rows],
                }
                out.write(json.dumps(record) + "\n")
        print(f"{name}: {len(data.queries)} questions", flush=True)
    _, model = resolve_model(encoder.name)
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


def _train(folder: Path, epochs: int, limit: int | None) -> int:
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    fusion = load_module("embeddings/ranking/fusion.py")
    ranking = load_module("embeddings/ranking/metrics.py")
    random.seed(0)
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model_dir = folder / "model-fp16"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def load(name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with open(folder / f"{name}.jsonl", encoding="utf-8") as lines:
            questions = [json.loads(line) for line in lines]
        if limit:  # spread over the articles, so that every split gets some
            questions = questions[:: max(1, len(questions) // limit)]
        return questions, json.loads((folder / f"{name}.passages.json").read_text())

    squad, squad_passages = load("squad-dev")
    news, news_passages = load("news-dev")

    def article(q: dict[str, Any]) -> int:
        return int(q["gold"][0].split("-")[1])  # squad-<article>-<paragraph>

    train_set = [q for q in squad if article(q) % 2 == 0 and article(q) not in DEV_ARTICLES]
    train_set = [q for q in train_set if any(q["label"])]
    sets = {
        "dev": ([q for q in squad if article(q) in DEV_ARTICLES], squad_passages),
        "test": ([q for q in squad if article(q) % 2 == 1], squad_passages),
        "news": ([q for q in news if q["gold"]], news_passages),
    }
    print(f"train {len(train_set)}, " + ", ".join(f"{k} {len(v[0])}" for k, v in sets.items()))

    def pairs(q: dict[str, Any], picks: list[int], passages: dict[str, Any], budget: int) -> Any:
        seconds = []
        for i in picks:
            p = passages[str(q["rows"][i])]
            seconds.append(f"{p['title']}. {window(p['text'], tuple(q['best'][i]), budget)}")
        return [q["question"]] * len(picks), seconds

    def encode(questions: list[str], texts: list[str], tokens: int) -> Any:
        return tokenizer(
            questions, texts, truncation="only_second", max_length=tokens, padding=True,
            return_tensors="pt",
        ).to(device)  # fmt: skip

    def fit(layers: int, tokens: int, budget: int) -> Any:
        model = AutoModelForSequenceClassification.from_pretrained(
            model_dir, num_labels=1, dtype=torch.float32
        )
        model.bert.encoder.layer = model.bert.encoder.layer[:layers]
        model.config.num_hidden_layers = layers
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        model.to(device).train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)
        per_batch = 16
        steps = epochs * -(-len(train_set) // per_batch)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, s / (0.1 * steps)) * max(0.0, (steps - s) / steps)
        )
        for epoch in range(epochs):
            random.shuffle(train_set)
            total = 0.0
            for start in range(0, len(train_set), per_batch):
                questions, texts = [], []
                for q in train_set[start : start + per_batch]:
                    positive = q["label"].index(True)
                    wrong = [i for i, right in enumerate(q["label"]) if not right]
                    # The engine's 10 best wrong candidates, then random ones from the rest.
                    picks = wrong[:10] + random.sample(wrong[10:], min(len(wrong) - 10, 5))
                    picks = (picks + random.choices(wrong, k=GROUP))[: GROUP - 1]
                    a, b = pairs(q, [positive, *picks], squad_passages, budget)
                    questions += a
                    texts += b
                with torch.autocast(device.type, dtype=torch.bfloat16):
                    logits = model(**encode(questions, texts, tokens)).logits.float()
                logits = logits.view(-1, GROUP)
                target = torch.zeros(len(logits), dtype=torch.long, device=device)
                loss = torch.nn.functional.cross_entropy(logits, target)
                optimiser.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimiser.step()
                schedule.step()
                total += loss.item()
            print(f"  {layers} layers, {tokens} tokens: epoch {epoch} loss {total:.1f}")
        return model.eval()

    @torch.no_grad()
    def scores(model: Any, questions: list[dict[str, Any]], passages: Any, tokens: int,
               budget: int) -> list[Any]:  # fmt: skip
        flat: tuple[list[str], list[str]] = ([], [])
        for q in questions:
            a, b = pairs(q, list(range(len(q["rows"]))), passages, budget)
            flat[0].extend(a)
            flat[1].extend(b)
        logits = []
        for s in range(0, len(flat[0]), 1024):
            with torch.autocast(device.type, dtype=torch.bfloat16):
                out = model(**encode(flat[0][s : s + 1024], flat[1][s : s + 1024], tokens))
            logits.append(out.logits.float().squeeze(-1).cpu().numpy())
        values = np.concatenate(logits)
        bounds = np.cumsum([0] + [len(q["rows"]) for q in questions])
        return [values[a:b] for a, b in itertools.pairwise(bounds)]

    def hit_rates(questions: list[dict[str, Any]], reranked: list[Any], passages: Any,
                  k: int, weight: float | None) -> tuple[float, float]:  # fmt: skip
        """hit@1 and hit@5 (articles) with the first k candidates reordered: by the reranker
        alone (weight None), or by z(engine) + weight * z(reranker)."""
        ranked = []
        for q, rr in zip(questions, reranked, strict=True):
            n = min(k, len(q["rows"]))
            fused = np.array(q["fused"][:n], dtype=np.float32)
            combined = (
                rr[:n]
                if weight is None
                else fusion.zscore(fused) + weight * fusion.zscore(rr[:n].astype(np.float32))
            )
            order = [*np.argsort(-combined, kind="stable"), *range(n, len(q["rows"]))]
            ranked.append(ranking.distinct(passages[str(q["rows"][i])]["article"] for i in order))
        found = ranking.metrics(ranked, [set(q["gold"]) for q in questions])
        return float(found["hit@1"]), float(found["hit@5"])

    for name, (questions, passages) in sets.items():
        rates = hit_rates(questions, [np.zeros(len(q["rows"])) for q in questions], passages,
                          1, 0.0)  # fmt: skip
        print(f"engine alone, {name}: hit@1 {rates[0]:.4f}, hit@5 {rates[1]:.4f}")
    rows = []
    for layers, tokens, budget in VARIANTS:
        model = fit(layers, tokens, budget)
        reranked = {n: scores(model, qs, p, tokens, budget) for n, (qs, p) in sets.items()}
        for k in (3, 4, 5, 8, 10, 20):
            for weight in (None, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0):
                row: dict[str, Any] = {"layers": layers, "tokens": tokens, "k": k, "w": weight}
                for n, (qs, p) in sets.items():
                    row[n] = hit_rates(qs, reranked[n], p, k, weight)
                rows.append(row)
        mine = [r for r in rows if r["layers"] == layers and r["tokens"] == tokens]
        best = max(mine, key=lambda r: r["dev"][0])
        print(f"  chosen on dev: {json.dumps(best)}")
        alone = max((r for r in mine if r["w"] is None), key=lambda r: r["dev"][0])
        print(f"  reranker alone: {json.dumps(alone)}", flush=True)
    out = Path(os.environ.get("OUT", folder))
    (out / "reranker-results.json").write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
