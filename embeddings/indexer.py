"""Build (or incrementally rebuild) an index from article files.

Every build parses all sources (cheap) and writes a complete new generation, but only passages
and sentences whose model input changed are encoded (expensive): the rest take their vectors
from the current generation by content digest. Adding one article therefore costs about the
time to embed that article.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.articles import Article, article_id_for, discover, parse_file
from embeddings.backend import IndexGeneration, IndexStore
from embeddings.chunking import Passage, chunk_article, model_input
from embeddings.encoder import Encoder, Vectors
from embeddings.errors import NothingIndexedError, ParseError
from embeddings.lexical import LexicalIndex
from embeddings.multilingual import MultilingualEncoder
from embeddings.store import (
    FORMAT_VERSION,
    ArticleRow,
    DirectoryStore,
    Manifest,
    PassageRow,
)


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """A step of a build: `stage` is parsing, encoding, writing or switching."""

    stage: str
    done: int
    total: int


ProgressCallback = Callable[[BuildProgress], None]


@dataclass(slots=True)
class BuildSummary:
    articles: int = 0
    passages: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    encoded: int = 0  # passages and sentences that went through the model
    reused: int = 0  # vectors taken from the previous generation
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # "file: reason", one per skipped item


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def sentence_input(title: str, sentence: str, speaker: str | None = None) -> str:
    """What the encoder sees for one sentence (title and speaker again supply the context)."""
    return model_input(title, sentence, speaker)


def load_articles(sources: Iterable[Path]) -> tuple[list[Article], list[str]]:
    """Parse every article file under `sources`; problems are reported, not raised."""
    files, problems = discover(sources)
    articles: list[Article] = []
    seen: dict[str, str] = {}
    for root, path in files:
        try:
            parsed = parse_file(path, article_id_for(root, path))
        except ParseError as error:
            problems.append(f"{path}: {error}")
            continue
        except OSError as error:
            problems.append(f"{path}: cannot read ({error.strerror})")
            continue
        problems.extend(f"{path}: {problem}" for problem in parsed.problems)
        for article in parsed.articles:
            if article.id in seen:
                problems.append(
                    f"{path}: article id {article.id!r} already taken by {seen[article.id]}"
                )
                continue
            seen[article.id] = str(path)
            articles.append(article)
    return articles, problems


def build_index(
    sources: Sequence[Path],
    index: Path | IndexStore,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
    multilingual: MultilingualEncoder | None = None,
) -> BuildSummary:
    """Make the index (a directory, or any `IndexStore`) reflect exactly the articles under
    `sources`."""
    articles, problems = load_articles(sources)
    return build_from_articles(
        articles, index, encoder, progress, problems, [str(s) for s in sources], multilingual
    )


def build_from_articles(
    articles: Sequence[Article],
    index: Path | IndexStore,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
    problems: Sequence[str] = (),
    sources: Sequence[str] = (),
    multilingual: MultilingualEncoder | None = None,
) -> BuildSummary:
    """Write a new generation holding exactly `articles` and make it current."""
    started = time.perf_counter()
    report = progress or (lambda _: None)
    report(BuildProgress("parsing", len(articles), len(articles)))
    if not articles:
        raise NothingIndexedError(
            "no article could be indexed" + (f": {problems[0]}" if problems else "")
        )
    store: IndexStore = DirectoryStore(index) if isinstance(index, Path) else index
    with store.build_lock():
        store.remove_orphans()  # left by a build that crashed
        previous = store.previous(encoder.name, encoder.dimension)
        summary = BuildSummary(problems=list(problems))
        try:
            chunked = [
                (a, chunk_article(a, encoder.count_tokens, encoder.max_tokens)) for a in articles
            ]
            plan = _plan([(a, ps) for a, ps in chunked if ps])
            if not plan.passages:
                raise NothingIndexedError("no article had any text to index")
            passage_vectors, sentence_vectors, *translated = _vectors(
                plan, encoder, multilingual, previous, summary, report
            )
            _count_changes(summary, plan.articles, previous)
        finally:
            if previous is not None:
                previous.close()
        report(BuildProgress("writing", 0, 1))
        lexical = LexicalIndex.build([text for _, text in plan.passage_inputs], plan.sentence_words)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=encoder.name,
            dimension=encoder.dimension,
            count=len(plan.passages),
            sentences=len(sentence_vectors),
            articles=len(plan.articles),
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            sources=list(sources),
            multilingual=multilingual.name if multilingual else None,
            checksums={},  # filled in by the store from what it wrote
        )
        manifest = store.publish(
            manifest,
            plan.articles,
            plan.passages,
            (passage_vectors, sentence_vectors),
            lexical,
            (translated[0], translated[1]) if translated else None,
            lambda: report(BuildProgress("switching", 0, 1)),
        )
    summary.articles = manifest.articles
    summary.passages = manifest.count
    summary.seconds = time.perf_counter() - started
    report(BuildProgress("done", 1, 1))
    return summary


@dataclass(frozen=True, slots=True)
class _Plan:
    """The rows a build writes, with what the model sees for each passage and sentence."""

    articles: list[ArticleRow]
    passages: list[PassageRow]
    passage_inputs: list[tuple[str, str]]  # (digest, model input), one per passage
    sentence_inputs: list[tuple[str, str]]  # (digest, model input), one per sentence
    sentence_words: list[str]  # what coverage reads of each sentence: speaker and text


def _plan(chunked: Sequence[tuple[Article, list[Passage]]]) -> _Plan:
    plan = _Plan([], [], [], [], [])
    for article, pieces in chunked:
        rows = []
        for piece in pieces:
            passage_input = model_input(article.title, piece.text, piece.speaker)
            sentences = [(a, b, sentence_input(article.title, piece.text[a:b], piece.speaker))
                         for a, b in piece.sentences]  # fmt: skip
            row = PassageRow(
                article_id=article.id,
                position=piece.position,
                text=piece.text,
                digest=_digest(passage_input),
                sentences=[(a, b, _digest(text)) for a, b, text in sentences],
            )
            plan.passage_inputs.append((row.digest, passage_input))
            plan.sentence_inputs.extend(
                (digest, text)
                for (_, _, digest), (_, _, text) in zip(row.sentences, sentences, strict=True)
            )
            plan.sentence_words.extend(
                model_input("", piece.text[a:b], piece.speaker) for a, b in piece.sentences
            )
            rows.append(row)
        metadata = f"{article.date}|{article.url}|{article.source}"
        digest = _digest("|".join([metadata, *(r.digest for r in rows)]))
        plan.articles.append(ArticleRow(article, digest))
        plan.passages.extend(rows)
    return plan


def _vectors(
    plan: _Plan,
    encoder: Encoder,
    multilingual: MultilingualEncoder | None,
    previous: IndexGeneration | None,
    summary: BuildSummary,
    report: ProgressCallback,
) -> list[Vectors]:
    """Passage and sentence vectors, then (when asked for) the multilingual model's passage
    and sentence vectors: reused by digest where possible, else encoded.

    Per model, passages and sentences share one pool: a one-sentence passage has the same
    model input as its sentence (the title, then the text), so it is encoded once, not twice;
    and a vector from the previous generation is reused whichever side it was stored on.
    """
    old = previous.digests() if previous else ({}, {})
    models: list[tuple[_Encode, tuple[Vectors, Vectors] | None]] = [
        (
            encoder.encode,
            (previous.passages.all(), previous.sentences.all()) if previous else None,
        )
    ]
    if multilingual is not None:
        earlier = previous.multilingual if previous is not None else None
        if previous is None or previous.manifest.multilingual != multilingual.name:
            earlier = None  # another multilingual model (or none): nothing to reuse
        models.append(
            (
                multilingual.encode_passages,
                (earlier[0].all(), earlier[1].all()) if earlier else None,
            )
        )
    unique = dict(plan.passage_inputs)
    unique.update(plan.sentence_inputs)  # identical inputs (a sentence repeated) encode once
    fresh = [[d for d in unique if not (matrices and (d in old[0] or d in old[1]))]
             for _, matrices in models]  # fmt: skip
    total = sum(len(f) for f in fresh)
    done = 0
    report(BuildProgress("encoding", 0, total))

    def advance(count: int) -> None:
        nonlocal done
        done += count
        report(BuildProgress("encoding", done, total))

    results: list[Vectors] = []
    for (encode, matrices), todo in zip(models, fresh, strict=True):
        encoded = encode([unique[d] for d in todo], advance)
        summary.encoded += len(todo)
        summary.reused += len(unique) - len(todo)
        # Every vector a row may take, as (source matrix, row in it); filled by fancy
        # indexing, not row by row: at a million rows the Python loop alone costs seconds.
        sources: list[Vectors] = [encoded]
        where = {d: (0, i) for i, d in enumerate(todo)}
        if matrices is not None:
            sources += list(matrices)
            for digest in unique.keys() - where.keys():
                where[digest] = (1, old[0][digest]) if digest in old[0] else (2, old[1][digest])
        for inputs in (plan.passage_inputs, plan.sentence_inputs):
            picks = np.array([where[d] for d, _ in inputs], dtype=np.int64).reshape(-1, 2)
            out = np.empty((len(inputs), encoded.shape[1]), dtype=np.float32)
            for source, matrix in enumerate(sources):
                rows = np.flatnonzero(picks[:, 0] == source)
                out[rows] = matrix[picks[rows, 1]]
            results.append(out)
    return results


_Encode = Callable[[Sequence[str], Callable[[int], None]], Vectors]


def _count_changes(
    summary: BuildSummary, articles: list[ArticleRow], previous: IndexGeneration | None
) -> None:
    old = previous.article_digests() if previous else {}
    for row in articles:
        if row.article.id not in old:
            summary.new += 1
        elif old[row.article.id] != row.digest:
            summary.changed += 1
        else:
            summary.unchanged += 1
    summary.removed = len(set(old) - {row.article.id for row in articles})
