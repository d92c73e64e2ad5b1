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
from embeddings.chunking import Passage, chunk_article, model_input
from embeddings.encoder import Encoder, Vectors
from embeddings.errors import NewsdeskError, NothingIndexedError, ParseError
from embeddings.lexical import LexicalIndex
from embeddings.store import (
    FORMAT_VERSION,
    ArticleRow,
    Generation,
    IndexDirectory,
    Manifest,
    PassageRow,
    write_generation,
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


def sentence_input(title: str, sentence: str) -> str:
    """What the encoder sees for one sentence (the title again supplies the context)."""
    return model_input(title, sentence)


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
    index_dir: Path,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
) -> BuildSummary:
    """Make the index in `index_dir` reflect exactly the articles under `sources`."""
    articles, problems = load_articles(sources)
    return build_from_articles(
        articles, index_dir, encoder, progress, problems, [str(s) for s in sources]
    )


def build_from_articles(
    articles: Sequence[Article],
    index_dir: Path,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
    problems: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> BuildSummary:
    """Write a new generation holding exactly `articles` and make it current."""
    started = time.perf_counter()
    report = progress or (lambda _: None)
    report(BuildProgress("parsing", len(articles), len(articles)))
    if not articles:
        raise NothingIndexedError(
            "no article could be indexed" + (f": {problems[0]}" if problems else "")
        )
    directory = IndexDirectory(index_dir)
    with directory.build_lock():
        serving = directory.current()
        previous = _previous_generation(serving, encoder)
        summary = BuildSummary(problems=list(problems))
        try:
            chunked = [
                (a, chunk_article(a, encoder.count_tokens, encoder.max_tokens)) for a in articles
            ]
            plan = _plan([(a, ps) for a, ps in chunked if ps])
            if not plan.passages:
                raise NothingIndexedError("no article had any text to index")
            passage_vectors, sentence_vectors = _vectors(plan, encoder, previous, summary, report)
            _count_changes(summary, plan.articles, previous)
            report(BuildProgress("writing", 0, 1))
            lexical = LexicalIndex.build(
                [text for _, text in plan.passage_inputs],
                [p.text[a:b] for p in plan.passages for a, b, _ in p.sentences],
            )
            target = directory.new_generation()
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                model=encoder.name,
                dimension=encoder.dimension,
                count=len(plan.passages),
                sentences=len(sentence_vectors),
                articles=len(plan.articles),
                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                sources=list(sources),
            )
            write_generation(
                target,
                manifest,
                plan.articles,
                plan.passages,
                passage_vectors,
                sentence_vectors,
                lexical,
            )
            report(BuildProgress("switching", 0, 1))
            directory.switch(target)
        finally:
            if previous is not None:
                previous.close()
        # Keep the generation that was serving until now: a reader may still be using it.
        directory.prune(keep=[target, serving])
    summary.articles = manifest.articles
    summary.passages = manifest.count
    summary.seconds = time.perf_counter() - started
    report(BuildProgress("done", 1, 1))
    return summary


def _previous_generation(path: Path | None, encoder: Encoder) -> Generation | None:
    """The serving generation if its vectors can be reused; a damaged one is simply rebuilt."""
    if path is None:
        return None
    try:
        return Generation(path, encoder.name, encoder.dimension)
    except NewsdeskError:
        return None


@dataclass(frozen=True, slots=True)
class _Plan:
    """The rows a build writes, with what the model sees for each passage and sentence."""

    articles: list[ArticleRow]
    passages: list[PassageRow]
    passage_inputs: list[tuple[str, str]]  # (digest, model input), one per passage
    sentence_inputs: list[tuple[str, str]]  # (digest, model input), one per sentence


def _plan(chunked: Sequence[tuple[Article, list[Passage]]]) -> _Plan:
    plan = _Plan([], [], [], [])
    for article, pieces in chunked:
        rows = []
        for piece in pieces:
            passage_input = model_input(article.title, piece.text)
            sentences = [(a, b, sentence_input(article.title, piece.text[a:b]))
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
            rows.append(row)
        metadata = f"{article.date}|{article.url}|{article.source}"
        digest = _digest("|".join([metadata, *(r.digest for r in rows)]))
        plan.articles.append(ArticleRow(article, digest))
        plan.passages.extend(rows)
    return plan


def _vectors(
    plan: _Plan,
    encoder: Encoder,
    previous: Generation | None,
    summary: BuildSummary,
    report: ProgressCallback,
) -> tuple[Vectors, Vectors]:
    """Passage and sentence vectors: reused by digest where possible, else encoded.

    Passages and sentences share one pool: a one-sentence passage has the same model input
    as its sentence (the title, then the text), so it is encoded once, not twice; and a
    vector from the previous generation is reused whichever side it was stored on.
    """
    old_passages, old_sentences = previous.digests() if previous else ({}, {})
    unique = dict(plan.passage_inputs)
    unique.update(plan.sentence_inputs)  # identical inputs (a sentence repeated) encode once
    fresh = [d for d in unique if d not in old_passages and d not in old_sentences]
    report(BuildProgress("encoding", 0, len(fresh)))
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        report(BuildProgress("encoding", done, len(fresh)))

    encoded = encoder.encode([unique[d] for d in fresh], progress=advance)
    summary.encoded += len(fresh)
    summary.reused += len(unique) - len(fresh)
    # Every vector a row may take, as (source matrix, row in it); filled by fancy indexing,
    # not row by row: at a million rows the Python loop alone would cost seconds.
    sources: list[Vectors] = [encoded]
    where = {d: (0, i) for i, d in enumerate(fresh)}
    if previous is not None:
        sources += [previous.passages.matrix, previous.sentences.matrix]
        for digest in unique.keys() - where.keys():
            if digest in old_passages:
                where[digest] = (1, old_passages[digest])
            else:
                where[digest] = (2, old_sentences[digest])
    results: list[Vectors] = []
    for inputs in (plan.passage_inputs, plan.sentence_inputs):
        picks = np.array([where[d] for d, _ in inputs], dtype=np.int64).reshape(-1, 2)
        out = np.empty((len(inputs), encoder.dimension), dtype=np.float32)
        for source, matrix in enumerate(sources):
            rows = np.flatnonzero(picks[:, 0] == source)
            out[rows] = matrix[picks[rows, 1]]
        results.append(out)
    return results[0], results[1]


def _count_changes(
    summary: BuildSummary, articles: list[ArticleRow], previous: Generation | None
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
