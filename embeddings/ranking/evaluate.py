"""Retrieval quality on a BEIR-format folder, through the same encoder, index and ranking.

Measured like the product: corpus entries named `docid#n` are paragraphs of one article, so
they are put back together (paragraphs in order, the entries' title) and the engine ingests
the article as it ingests news-sample.jsonl: a paragraph sees the question turn before it.
Each returned passage maps back to the corpus ids of the paragraphs it holds, and a passage
is a hit when it holds a relevant one. Entries without `#n` (SQuAD) stay articles of their
own, and their passages map to the entry's id. Metrics are over distinct passages (distinct
entries for single-entry articles) in ranked order.

When the folder has `answer_spans.json` (query id → exact answer spans), `sentence@1` is the
share of answerable questions (with qrels and at least one span) whose first result's marked
sentence contains one of their spans (or, for a span running over several sentences, is
wholly one of them, at least four words), both compared after `_normal`: case folded, curly
quotes and dashes made plain, whitespace collapsed, and the outer punctuation dropped (a span
copied with its full stop still matches a sentence that ends in a quote mark).
`declined` is the share of the questions asked that the engine declines to answer. With a
`kind` on the queries, every metric is also reported per kind.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.errors import ParseError
from embeddings.index.backend import IndexStore
from embeddings.index.indexer import ProgressCallback, build_from_articles
from embeddings.index.stores import open_store
from embeddings.ingest.articles import Article, clean_inline
from embeddings.models.encoder import Encoder, MultilingualModel
from embeddings.ranking.metrics import DEPTH, distinct, metrics
from embeddings.ranking.search import Result, Searcher
from embeddings.text.sentences import split_sentences

_SEED = 20261128
_PARAGRAPH_ID = re.compile(r"^(?P<doc>.+)#(?P<n>\d+)$")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_OUTER_PUNCTUATION = " .,;:!?'\"()"

Metrics = dict[str, float]
Report = dict[str, float | dict[str, Metrics]]


@dataclass(frozen=True, slots=True)
class BeirSet:
    corpus: list[Article]  # `docid#n` entries grouped back into their articles
    queries: dict[str, str]  # id → text
    qrels: dict[str, set[str]]  # query id → relevant corpus ids (empty: unanswerable)
    # article id → its paragraphs' (corpus id, text), for articles grouped from `docid#n`
    paragraphs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # query id → kind, when given
    answer_spans: dict[str, list[str]] = field(default_factory=dict)  # query id → spans

    def corpus_ids(self, article_id: str, shown: str) -> frozenset[str]:
        """The corpus ids a returned passage (its article, the text shown) stands for: the
        grouped paragraphs it holds (all of one, or a part of one split in pieces), else its
        article's own id."""
        held = self.paragraphs.get(article_id)
        if held is None:
            return frozenset({article_id})
        lines = {" ".join(line.split()) for line in shown.split("\n")}
        text = " ".join(shown.split())
        return frozenset(cid for cid, paragraph in held if _holds(text, lines, paragraph))


def _holds(passage: str, lines: set[str], paragraph: str) -> bool:
    if paragraph in lines or passage in paragraph:
        return True
    # A short paragraph ("Over.", "Thanks.") counts only as a line of its own.
    if len(paragraph.split()) >= 4 and paragraph in passage:
        return True
    # A piece of a long paragraph that the engine split on sentences.
    return any(len(s.split()) >= 5 and s in passage for s in split_sentences(paragraph))


def _json_lines(path: Path) -> Iterator[dict[str, object]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as error:
                        raise ParseError(f"{path}:{line_no}: invalid JSON ({error.msg})") from None
    except FileNotFoundError:
        raise ParseError(f"{path} is missing: a BEIR folder has corpus.jsonl, queries.jsonl "
                         "and qrels/test.tsv") from None  # fmt: skip


def _articles(
    rows: Iterator[dict[str, object]],
) -> tuple[list[Article], dict[str, list[tuple[str, str]]]]:
    """Articles in first-seen order: `docid#n` entries joined (by n) under `docid`."""
    singles: dict[str, Article] = {}
    grouped: dict[str, list[tuple[int, str, str]]] = {}
    titles: dict[str, str] = {}
    order: list[str] = []
    for row in rows:
        text = clean_inline(str(row.get("text") or ""))
        if not text:
            continue
        entry, title = str(row["_id"]), clean_inline(str(row.get("title") or ""))
        match = _PARAGRAPH_ID.match(entry)
        if match is None:
            singles[entry] = Article(id=entry, title=title, paragraphs=(text,))
            order.append(entry)
            continue
        doc = match.group("doc")
        if doc not in grouped:
            grouped[doc], titles[doc] = [], title
            order.append(doc)
        grouped[doc].append((int(match.group("n")), entry, text))
    paragraphs = {doc: [(cid, text) for _, cid, text in sorted(rows_)]
                  for doc, rows_ in grouped.items()}  # fmt: skip
    corpus = [
        singles[key]
        if key in singles
        else Article(id=key, title=titles[key], paragraphs=tuple(t for _, t in paragraphs[key]))
        for key in order
    ]
    return corpus, paragraphs


def load_beir(folder: Path) -> BeirSet:
    corpus, paragraphs = _articles(_json_lines(folder / "corpus.jsonl"))
    query_rows = list(_json_lines(folder / "queries.jsonl"))
    queries = {str(row["_id"]): str(row["text"]) for row in query_rows}
    kinds = {str(row["_id"]): str(row["kind"]) for row in query_rows if row.get("kind")}
    qrels: dict[str, set[str]] = {}
    qrels_path = folder / "qrels" / "test.tsv"
    try:
        lines = qrels_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ParseError(f"{qrels_path} is missing") from None
    for line in lines[1:]:  # header: query-id corpus-id score
        parts = line.split("\t")
        if len(parts) >= 3 and float(parts[2]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[1])
    spans_path = folder / "answer_spans.json"
    spans: dict[str, list[str]] = {}
    if spans_path.exists():
        given = json.loads(spans_path.read_text(encoding="utf-8"))
        spans = {str(k): [str(s) for s in v] for k, v in given.items()}
    return BeirSet(corpus, queries, qrels, paragraphs, kinds, spans)


def with_dates(corpus: Sequence[Article], archive: Sequence[Article]) -> list[Article]:
    """The corpus articles, each with the date (and source) of its archive article, found by
    id, else by first paragraph (a file named differently in the archive)."""
    by_id = {a.id: a for a in archive}
    by_text = {a.paragraphs[0]: a for a in archive if a.paragraphs}
    dated = []
    for article in corpus:
        found = by_id.get(article.id) or by_text.get(article.paragraphs[0])
        if found is not None:
            article = dataclasses.replace(article, date=found.date, source=found.source)
        dated.append(article)
    return dated


def sample_queries(data: BeirSet, limit: int | None) -> list[str]:
    """Query ids with judgements, in file order; a fixed seeded sample when limited."""
    ids = [q for q in data.queries if q in data.qrels]
    if limit is not None and limit < len(ids):
        ids = sorted(random.Random(_SEED).sample(ids, limit), key=ids.index)
    return ids


def _normal(text: str) -> str:
    return " ".join(text.translate(_QUOTES).casefold().split())


def holds_span(sentence: str, spans: Sequence[str]) -> bool:
    """Whether the marked sentence contains one of the answer spans, or, for a span of
    several sentences, is one of them (see the module doc)."""
    marked = _normal(sentence)
    inner = marked.strip(_OUTER_PUNCTUATION)
    for given in spans:
        span = _normal(given).strip(_OUTER_PUNCTUATION)
        if span and (span in marked or (len(inner.split()) >= 4 and inner in span)):
            return True
    return False


def ranked_passages(
    data: BeirSet, results: Sequence[Result], depth: int = DEPTH
) -> list[frozenset[str]]:
    """The corpus ids of each distinct returned passage, in ranked order, `depth` deep."""
    held = (data.corpus_ids(result.article_id, result.text) for result in results)
    return distinct((ids for ids in held if ids), depth)


@dataclass(frozen=True, slots=True)
class _Asked:
    ranked: list[frozenset[str]]
    declined: bool
    sentence_hit: bool | None  # None: no answer spans to check against


def _summary(data: BeirSet, ids: Sequence[str], asked: Sequence[_Asked]) -> Metrics:
    result = metrics([a.ranked for a in asked], [data.qrels[q] for q in ids])
    checked = [a.sentence_hit for a in asked if a.sentence_hit is not None]
    if data.answer_spans:
        result["sentence@1"] = round(sum(checked) / len(checked), 4) if checked else 0.0
    result["declined"] = round(sum(a.declined for a in asked) / max(len(asked), 1), 4)
    result["queries"] = len(ids)
    return result


def evaluate(
    folder: Path,
    encoder: Encoder,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    on_query: Callable[[int, int], None] | None = None,
    multilingual: MultilingualModel | None = None,
    keep_index: IndexStore | None = None,
    dated_by: Sequence[Article] = (),
) -> Report:
    """Build an index of the folder's corpus (temporary, or in `keep_index`, a directory or
    another store such as PostgreSQL, where a second run reuses its vectors), run its queries,
    return the metrics (and, when the queries have kinds, the metrics per kind).

    A BEIR corpus has no dates: `dated_by` (the archive the corpus was cut from) gives each
    corpus article the date of the article with its id, or else with its first paragraph."""
    data = load_beir(folder)
    if dated_by:
        data = dataclasses.replace(data, corpus=with_dates(data.corpus, dated_by))
    query_ids = sample_queries(data, limit)
    asked: list[_Asked] = []
    timings: list[float] = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-eval-") as scratch:
        store = keep_index or open_store(Path(scratch))
        build_from_articles(data.corpus, store, encoder, progress, multilingual=multilingual)
        generation = store.open_current(encoder.name, encoder.dimension)
        searcher = Searcher(generation, encoder, multilingual=multilingual)
        for done, query_id in enumerate(query_ids, start=1):
            started = time.perf_counter()
            answer = searcher.search(data.queries[query_id], top=DEPTH * 2)
            timings.append((time.perf_counter() - started) * 1000.0)
            spans = data.answer_spans.get(query_id)
            first = answer.results[0].answer_sentence if answer.results else ""
            asked.append(
                _Asked(
                    ranked_passages(data, answer.results),
                    not answer.answered,
                    holds_span(first, spans) if spans else None,
                )
            )
            if on_query:
                on_query(done, len(query_ids))
        generation.close()
    report: Report = dict(_summary(data, query_ids, asked))
    report["ms_per_query"] = round(statistics.median(timings), 1) if timings else 0.0
    kinds = sorted({data.kinds[q] for q in query_ids if q in data.kinds})
    if kinds:
        report["kinds"] = {
            kind: _summary(data, [q for q in query_ids if data.kinds.get(q) == kind],
                           [a for q, a in zip(query_ids, asked, strict=True)
                            if data.kinds.get(q) == kind])
            for kind in kinds
        }  # fmt: skip
    return report
