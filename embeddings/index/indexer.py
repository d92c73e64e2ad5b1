"""Build (or incrementally rebuild) an index from article files.

A full build parses every source and writes a complete new generation (all rows in its base
segment), encoding only passages and sentences whose model input changed: the rest take their
vectors from the current generation by content digest.

Where the store's generations offer a `shared_base` (the directory backend), an update reads
only the files whose size or times changed (updates.py), and writes a new generation that
shares the current base and holds the changed articles in a small delta segment. Its cost
follows the size of the change and of the delta, not of the archive. Once the delta or the
base rows it replaces pass DELTA_LIMIT passages, the update still goes out at once and says
`compaction_due`; the caller then runs `compact_index` (a full build that encodes nothing)
when it suits it, in the background in the bot, while the update already answers questions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from embeddings.errors import NothingIndexedError
from embeddings.index.backend import IndexGeneration, IndexStore, Matrix, SharedBase, VectorSpace
from embeddings.index.lexical import LexicalSegment
from embeddings.index.manifest import FORMAT_VERSION, Manifest
from embeddings.index.rows import ArticleRow, PassageRow, SegmentRows
from embeddings.index.updates import FileTable, Update, plan_update, read_files
from embeddings.ingest.articles import Article, discover
from embeddings.models.encoder import Encoder, MultilingualModel, Vectors
from embeddings.text.chunking import CHUNKING_VERSION, Passage, chunk_article, model_input

_NOTHING_READY: Mapping[str, Vectors] = MappingProxyType({})

# Passages in the delta (or base passages it replaces) past which an update asks for
# compaction: a full build, without encoding, folding the delta into a new base. It bounds
# what every update rewrites and what searches skip.
DELTA_LIMIT = 2_000


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
    compaction_due: bool = False  # the delta passed DELTA_LIMIT: run compact_index next
    problems: list[str] = field(default_factory=list)  # "file: reason", one per skipped item


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def sentence_input(title: str, sentence: str, speaker: str | None = None) -> str:
    """What the encoder sees for one sentence (title and speaker again supply the context)."""
    return model_input(title, sentence, speaker)


def load_articles(sources: Iterable[Path]) -> tuple[list[Article], list[str]]:
    """Parse every article file under `sources`; problems are reported, not raised."""
    files, problems = discover(sources)
    articles, more, _ = read_files(files)
    return articles, problems + more


def build_index(
    sources: Sequence[Path],
    store: IndexStore,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
    multilingual: MultilingualModel | None = None,
) -> BuildSummary:
    """Make the index reflect exactly the articles under `sources`: by an update of the
    changed files when the current generation allows it, else in full."""
    names = [str(s) for s in sources]

    def plan(previous: SharedBase) -> Update | None:
        update = plan_update(sources, previous, names, multilingual.name if multilingual else None)
        return update if update is None or _smaller_than_base(update, previous) else None

    return _build(store, encoder, progress, multilingual, names, plan, _reader(sources))


def compact_index(
    sources: Sequence[Path],
    store: IndexStore,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
    multilingual: MultilingualModel | None = None,
    ready: Mapping[str, Vectors] = _NOTHING_READY,
) -> BuildSummary:
    """A full build of `sources`: the current delta folded into a new base. Vectors are
    reused by digest, so only what changed since the last build is encoded; questions are
    answered from the current generation until the switch. `ready` holds multilingual vectors
    encoded beforehand (digest → vector, see `embeddings.index.backfill`)."""
    return _build(store, encoder, progress, multilingual, [str(s) for s in sources],
                  lambda _: None, _reader(sources), ready)  # fmt: skip


def model_inputs(sources: Sequence[Path], encoder: Encoder) -> dict[str, str]:
    """digest → model input of every passage and sentence a full build of `sources` writes
    (what a backfill encodes ahead of that build)."""
    articles, _, _ = _reader(sources)()
    plan = _plan([(a, chunk_article(a, encoder.count_tokens, encoder.max_tokens))
                  for a in articles])  # fmt: skip
    return dict(plan.passage_inputs) | dict(plan.sentence_inputs)


def _reader(sources: Sequence[Path]) -> Callable[[], tuple[list[Article], list[str], FileTable]]:
    def everything() -> tuple[list[Article], list[str], FileTable]:
        files, problems = discover(sources)
        articles, more, table = read_files(files)
        return articles, problems + more, table

    return everything


def build_from_articles(
    articles: Sequence[Article],
    store: IndexStore,
    encoder: Encoder,
    progress: ProgressCallback | None = None,
    problems: Sequence[str] = (),
    sources: Sequence[str] = (),
    multilingual: MultilingualModel | None = None,
) -> BuildSummary:
    """Write a new generation holding exactly `articles` and make it current (always a full
    build: without the files they came from, nothing tells what changed)."""
    return _build(store, encoder, progress, multilingual, list(sources), lambda _: None,
                  lambda: (list(articles), list(problems), {}))  # fmt: skip


def _build(
    store: IndexStore,
    encoder: Encoder,
    progress: ProgressCallback | None,
    multilingual: MultilingualModel | None,
    sources: list[str],
    plan: Callable[[SharedBase], Update | None],
    everything: Callable[[], tuple[list[Article], list[str], FileTable]],
    ready: Mapping[str, Vectors] = _NOTHING_READY,
) -> BuildSummary:
    started = time.perf_counter()
    report = progress or (lambda _: None)
    with store.build_lock():
        store.remove_orphans()  # left by a build that crashed
        previous = store.previous(encoder.name, encoder.dimension)
        try:
            # Updates in place only where the store can share the current base, and its
            # passages were cut as this version cuts them: an update in place reads only the
            # files that changed, so it would never re-cut the others. A whole build re-cuts
            # everything and still reuses every vector whose text did not change.
            shared = (
                previous.shared_base()
                if previous is not None and previous.manifest.chunking == CHUNKING_VERSION
                else None
            )
            update = plan(shared) if shared is not None else None
            if previous is not None and shared is not None and update is not None:
                summary = BuildSummary(problems=update.problems)
                if update.unchanged:  # nothing to write: the current generation is exact
                    summary.articles = summary.unchanged = shared.manifest.articles
                    summary.passages = shared.manifest.count
                    # A compaction killed before its switch left the delta as it was: ask again.
                    summary.compaction_due = _delta_past_limit(shared.manifest)
                    summary.seconds = time.perf_counter() - started
                    report(BuildProgress("done", 1, 1))
                    return summary
                manifest = _write_update(
                    store, update, previous, shared, encoder, multilingual, summary, report,
                    sources,
                )  # fmt: skip
            else:
                articles, problems, table = everything()
                summary = BuildSummary(problems=problems)
                manifest = _write_full(
                    store, articles, table, previous, encoder, multilingual, summary, report,
                    sources, ready,
                )  # fmt: skip
        finally:
            if previous is not None:
                previous.close()
    summary.articles = manifest.articles
    summary.passages = manifest.count
    summary.seconds = time.perf_counter() - started
    report(BuildProgress("done", 1, 1))
    return summary


def _delta_past_limit(manifest: Manifest) -> bool:
    """Whether a generation's delta, or the base rows it replaces, pass DELTA_LIMIT passages
    (rows written in base and delta, less those served, are the dead base rows)."""
    base, delta = manifest.segments["base"][0], manifest.segments["delta"][0]
    return max(delta, base + delta - manifest.count) > DELTA_LIMIT


def _smaller_than_base(update: Update, previous: SharedBase) -> bool:
    """Whether the delta stays under DELTA_LIMIT passages or under the base's size: past
    both, writing everything once as a new base costs less than a delta and a compaction."""
    if update.unchanged:
        return True
    # Paragraphs: a cheap estimate of the passages the delta's articles will make (before
    # chunking them; short ones merge, overlong ones split).
    paragraphs = sum(len(a.paragraphs) for a in update.delta)
    return paragraphs <= max(DELTA_LIMIT, previous.manifest.segments["base"][0])


def _write_full(
    store: IndexStore,
    articles: Sequence[Article],
    table: FileTable,
    previous: IndexGeneration | None,
    encoder: Encoder,
    multilingual: MultilingualModel | None,
    summary: BuildSummary,
    report: ProgressCallback,
    sources: list[str],
    ready: Mapping[str, Vectors],
) -> Manifest:
    report(BuildProgress("parsing", len(articles), len(articles)))
    if not articles:
        raise NothingIndexedError(
            "no article could be indexed" + (f": {summary.problems[0]}" if summary.problems else "")
        )
    chunked = [(a, chunk_article(a, encoder.count_tokens, encoder.max_tokens)) for a in articles]
    plan = _plan([(a, pieces) for a, pieces in chunked if pieces])
    if not plan.passages:
        raise NothingIndexedError("no article had any text to index")
    old = previous.digests() if previous else ({}, {})
    passage_vectors, sentence_vectors, *translated = _vectors(
        plan, encoder, multilingual, previous, old, summary, report, ready
    )
    _count_changes(summary, plan.articles, previous)
    report(BuildProgress("writing", 0, 1))
    base = SegmentRows(
        plan.articles,
        plan.passages,
        passage_vectors,
        sentence_vectors,
        LexicalSegment.build([text for _, text in plan.passage_inputs], plan.sentence_words),
        (translated[0], translated[1]) if translated else None,
    )
    empty = _empty_delta(base, encoder.dimension, multilingual)
    counts = (len(plan.articles), len(plan.passages), len(sentence_vectors))
    return _commit(store, base, empty, table, counts, encoder, multilingual, sources, report)


def _write_update(
    store: IndexStore,
    update: Update,
    previous: IndexGeneration,
    shared: SharedBase,
    encoder: Encoder,
    multilingual: MultilingualModel | None,
    summary: BuildSummary,
    report: ProgressCallback,
    sources: list[str],
) -> Manifest:
    """A generation sharing `shared`'s base (`previous`, whose vectors it may reuse), with
    the new delta `update` describes."""
    report(BuildProgress("parsing", len(update.parsed), len(update.parsed)))
    chunked = [(a, chunk_article(a, encoder.count_tokens, encoder.max_tokens))
               for a in update.delta]  # fmt: skip
    plan = _plan([(a, pieces) for a, pieces in chunked if pieces])
    old = shared.reusable_digests(sorted(update.touched))
    passage_vectors, sentence_vectors, *translated = _vectors(
        plan, encoder, multilingual, previous, old, summary, report
    )
    _count_update(summary, update, shared, plan.articles)
    report(BuildProgress("writing", 0, 1))
    dead = shared.removed_passages(update.dead)
    removed = [model_input(*row) for row in dead.inputs]
    base_rows = shared.manifest.segments["base"]
    delta = SegmentRows(
        plan.articles,
        plan.passages,
        passage_vectors,
        sentence_vectors,
        LexicalSegment.build(
            [text for _, text in plan.passage_inputs],
            plan.sentence_words,
            before=shared.base_lexical,
            removed=removed,
        ),
        (translated[0], translated[1]) if translated else None,
        first_passage=base_rows[0],
        first_sentence=base_rows[1],
        dead_articles=update.dead,
    )
    counts = (
        shared.base_article_count() - len(update.dead) + len(plan.articles),
        base_rows[0] - dead.passages + len(plan.passages),
        base_rows[1] - dead.sentences + len(sentence_vectors),
    )
    if counts[0] == 0 or counts[1] == 0:
        raise NothingIndexedError("no article could be indexed")
    summary.unchanged = counts[0] - summary.new - summary.changed
    summary.compaction_due = max(len(plan.passages), dead.passages) > DELTA_LIMIT
    return _commit(store, shared, delta, update.table, counts, encoder, multilingual,
                   sources, report)  # fmt: skip


def _commit(
    store: IndexStore,
    base: SegmentRows | SharedBase,
    delta: SegmentRows,
    table: FileTable,
    counts: tuple[int, int, int],
    encoder: Encoder,
    multilingual: MultilingualModel | None,
    sources: list[str],
    report: ProgressCallback,
) -> Manifest:
    """Write the generation and switch to it; on failure the old one serves on."""
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model=encoder.name,
        dimension=encoder.dimension,
        count=counts[1],
        sentences=counts[2],
        articles=counts[0],
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        sources=sources,
        multilingual=multilingual.name if multilingual else None,
        multilingual_dimension=multilingual.dimension if multilingual else None,
        checksums={},  # filled in by the store from what it wrote
        chunking=CHUNKING_VERSION,
    )
    return store.publish(
        manifest, base, delta, table, lambda: report(BuildProgress("switching", 0, 1))
    )


def _empty_delta(
    base: SegmentRows, dimension: int, multilingual: MultilingualModel | None
) -> SegmentRows:
    nothing = np.zeros((0, dimension), dtype=np.float32)
    translated = None
    if multilingual is not None:
        empty = np.zeros((0, multilingual.dimension), dtype=np.float32)
        translated = (empty, empty)
    return SegmentRows(
        [],
        [],
        nothing,
        nothing,
        LexicalSegment.build([], [], before=base.lexical),
        translated,
        first_passage=len(base.passages),
        first_sentence=len(base.sentence_vectors),
    )


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
                speaker=piece.speaker,
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
    multilingual: MultilingualModel | None,
    previous: IndexGeneration | None,
    old: tuple[dict[str, int], dict[str, int]],
    summary: BuildSummary,
    report: ProgressCallback,
    ready: Mapping[str, Vectors] = _NOTHING_READY,
) -> list[Vectors]:
    """Passage and sentence vectors, then (when asked for) the multilingual model's passage
    and sentence vectors: reused by digest where possible, else encoded.

    Per model, passages and sentences share one pool: a one-sentence passage has the same
    model input as its sentence (the title, then the text), so it is encoded once, not twice;
    and a vector from the previous generation is reused whichever side it was stored on.
    Multilingual vectors in `ready` (by digest) count as reused too.
    """
    models: list[tuple[_Encode, tuple[VectorSpace, VectorSpace] | None]] = [
        (encoder.encode, (previous.passages, previous.sentences) if previous else None)
    ]
    if multilingual is not None:
        earlier = previous.multilingual if previous is not None else None
        if previous is None or previous.manifest.multilingual != multilingual.name:
            earlier = None  # another multilingual model (or none): nothing to reuse
        models.append(
            (
                multilingual.encode_passages,
                earlier,
            )
        )
    unique = dict(plan.passage_inputs)
    unique.update(plan.sentence_inputs)  # identical inputs (a sentence repeated) encode once
    fresh = [[d for d in unique if not (spaces and (d in old[0] or d in old[1]))]
             for _, spaces in models]  # fmt: skip
    # Per model, what `ready` supplies (only the multilingual model's vectors are there).
    prepared: list[list[str]] = [[] for _ in models]
    if multilingual is not None:
        prepared[-1] = [d for d in fresh[-1] if d in ready]
        fresh[-1] = [d for d in fresh[-1] if d not in ready]
    total = sum(len(f) for f in fresh)
    done = 0
    report(BuildProgress("encoding", 0, total))

    def advance(count: int) -> None:
        nonlocal done
        done += count
        report(BuildProgress("encoding", done, total))

    results: list[Vectors] = []
    for (encode, spaces), todo, given in zip(models, fresh, prepared, strict=True):
        encoded = encode([unique[d] for d in todo], advance)
        summary.encoded += len(todo)
        summary.reused += len(unique) - len(todo)
        if given:  # encoded ahead of this build: taken as if just encoded
            encoded = np.concatenate([encoded, np.stack([ready[d] for d in given])])
            todo = todo + given
        # Every vector a row may take, as (source, row in it); fetched a source at a time,
        # not row by row: at a million rows the Python loop alone costs seconds.
        sources: list[Callable[[npt.NDArray[np.int64]], Matrix]] = [encoded.__getitem__]
        where = {d: (0, i) for i, d in enumerate(todo)}
        if spaces is not None:
            sources += [space.rows for space in spaces]
            for digest in unique.keys() - where.keys():
                where[digest] = (1, old[0][digest]) if digest in old[0] else (2, old[1][digest])
        for inputs in (plan.passage_inputs, plan.sentence_inputs):
            picks = np.array([where[d] for d, _ in inputs], dtype=np.int64).reshape(-1, 2)
            out = np.empty((len(inputs), encoded.shape[1]), dtype=np.float32)
            for source, take in enumerate(sources):
                rows = np.flatnonzero(picks[:, 0] == source)
                if len(rows):
                    out[rows] = take(picks[rows, 1])
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


def _count_update(
    summary: BuildSummary, update: Update, previous: SharedBase, rows: list[ArticleRow]
) -> None:
    old = previous.live_digests(sorted(update.touched))
    digests = {row.article.id: row.digest for row in rows}
    for article in update.parsed:
        if article.id not in old:
            summary.new += 1
        elif article.id in digests and old[article.id] != digests[article.id]:
            summary.changed += 1
    summary.removed = len(update.gone & old.keys())
