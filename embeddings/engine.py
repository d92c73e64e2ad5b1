"""The engine as its front ends use it: one index (a directory, or a database), one model,
thread-safe.

Searches run on whatever generation is current when they start; a build (in this process or
another, on this machine or another replica) switches the current generation atomically and
the next search picks the new generation up.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import (
    IndexIncompatibleError,
    IndexMissingError,
    MultilingualPendingError,
)
from embeddings.index.backend import IndexStore
from embeddings.index.backfill import Backfill
from embeddings.index.indexer import (
    BuildSummary,
    ProgressCallback,
    build_index,
    compact_index,
    model_inputs,
)
from embeddings.index.manifest import Manifest
from embeddings.index.stopping import Stop
from embeddings.ingest.articles import Article
from embeddings.ingest.upload import (
    provisionally_written,
    refuse_taken_ids,
    safe_filename,
    validate_upload,
)
from embeddings.models.encoder import Encoder, MultilingualModel
from embeddings.ranking.search import Answer, Searcher
from embeddings.ranking.timeline import Timeline, timeline
from embeddings.ranking.topics import TopicMatch, article_rows, match_topics
from embeddings.text.language import is_english, load_identifier
from embeddings.text.questions import check_question
from embeddings.text.when import TimeScope

DEFAULT_MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True, slots=True)
class IndexStats:
    manifest: Manifest
    generation: str
    by_source: dict[str, int]  # articles per source ("unknown" when an article names none)
    first_date: str | None
    last_date: str | None
    newest_title: str | None
    disk_bytes: int


class Engine:
    def __init__(
        self,
        store: IndexStore,
        encoder: Encoder,
        max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS,
        multilingual: MultilingualModel | None = None,
    ) -> None:
        self.store = store  # see embeddings.index.stores.open_store
        self.encoder = encoder
        self.multilingual = multilingual
        self.max_question_chars = max_question_chars
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._token: Hashable | None = None
        # Set on shutdown: every build of this engine stops at its next batch.
        self.stop = Stop()
        self._backfill = Backfill()

    # ------------------------------------------------------------------ index lifecycle

    def _current(self) -> Searcher:
        """The searcher for the current generation, reloaded when another has become current."""
        token = self.store.token()
        with self._lock:
            if self._searcher is None or token != self._token:
                if self._searcher is None:
                    self.store.clean_orphans()  # what a crashed build left behind
                if not self.store.has_index():
                    raise IndexMissingError(
                        f"no index yet ({self.store.describe()}): build one with `newsdesk index`"
                    )
                try:
                    generation = self.store.open_current(self.encoder.name, self.encoder.dimension)
                except IndexIncompatibleError as error:
                    raise type(error)(
                        f"cannot use {self.store.describe()}: {error}. "
                        "Rebuild it with `newsdesk index` (or /reindex in the bot), or set "
                        "NEWSDESK_ENCODER to the encoder that built it"
                    ) from None
                # The old generation is not closed here: a search in another thread may still
                # be reading it. It is released when the last reference goes.
                self._searcher = Searcher(generation, self.encoder, multilingual=self.multilingual)
                self._token = token
            return self._searcher

    def has_index(self) -> bool:
        return self.store.has_index()

    def reads_other_languages(self) -> bool:
        """Whether questions in other languages get the multilingual model (it is configured
        and the current index holds its vectors)."""
        return self._current().multilingual is not None

    def build(
        self, sources: Sequence[Path], progress: ProgressCallback | None = None
    ) -> BuildSummary:
        """Re-index `sources` (incrementally) and serve the result from the next search on.

        A first build writes both models' vectors. An index that lacks the multilingual ones
        (`backfill_due`) is updated in English only, in seconds: the backfill adds them
        without making this update wait for it."""
        multilingual = None if self.backfill_due() else self.multilingual
        summary = build_index(
            sources, self.store, self.encoder, self.stop.watch(progress), multilingual
        )
        self._current()  # load the new generation here, not in the next reader's question
        return summary

    def backfill_due(self) -> bool:
        """Whether the multilingual model is configured and the current index lacks its
        vectors (it was built English-only, or by another multilingual model)."""
        if self.multilingual is None or not self.has_index():
            return False
        try:
            manifest = self._current().generation.manifest
        except IndexIncompatibleError:
            return False  # a full build replaces it, with both models
        return manifest.multilingual != self.multilingual.name

    def prepare_backfill(
        self, sources: Sequence[Path], progress: ProgressCallback | None = None
    ) -> None:
        """Encode the multilingual vectors of `sources` without holding the build lock
        (updates go on meanwhile); `finish_backfill` then writes them. Stops at the next
        batch once `stop` is set, keeping what was encoded for a later call."""
        assert self.multilingual is not None
        self._backfill.running = True  # until finish_backfill ends
        try:
            inputs = model_inputs(sources, self.encoder)
            self._backfill.encode(inputs, self.multilingual, self.stop, progress)
        except BaseException:
            self._backfill.running = False
            raise

    def finish_backfill(
        self, sources: Sequence[Path], progress: ProgressCallback | None = None
    ) -> BuildSummary:
        """A full build with both models, taking the vectors `prepare_backfill` encoded:
        only what changed since is encoded here."""
        try:
            summary = compact_index(sources, self.store, self.encoder, self.stop.watch(progress),
                                    self.multilingual, self._backfill.ready())  # fmt: skip
        finally:
            self._backfill.running = False
        self._backfill.clear()
        self._current()
        return summary

    def backfill_percent(self) -> int:
        """How far the multilingual vectors are encoded (0 to 100)."""
        return self._backfill.percent()

    def compact(
        self, sources: Sequence[Path], progress: ProgressCallback | None = None
    ) -> BuildSummary:
        """Fold the delta into a new base (after a build said `compaction_due`), keeping the
        languages the current index has; questions are answered meanwhile."""
        keep = self.has_index() and self.reads_other_languages()
        multilingual = self.multilingual if keep else None
        summary = compact_index(
            sources, self.store, self.encoder, self.stop.watch(progress), multilingual
        )
        self._current()
        return summary

    def add_file(
        self,
        data_dir: Path,
        filename: str,
        content: bytes,
        progress: ProgressCallback | None = None,
    ) -> tuple[list[Article], BuildSummary]:
        """Validate an uploaded article file, save it into `data_dir` and index incrementally.

        Strict where `build` is lenient: any unreadable record rejects the whole file, and an
        article id already used by another file is refused. If indexing fails, the folder is
        put back as it was, so nothing partial is left behind. Raises ParseError on rejection.
        """
        name = safe_filename(filename)
        articles = validate_upload(name, content, data_dir)
        target = data_dir / name
        owners = self._current().generation.article_paths() if self.has_index() else {}
        refuse_taken_ids(articles, owners, target)
        with provisionally_written(target, content):
            summary = self.build([data_dir], progress)
        return articles, summary

    def load(self) -> Manifest:
        """Open the current index now, and the language identifier when questions in other
        languages are read, so the first question pays for neither."""
        current = self._current()
        if current.multilingual is not None:
            load_identifier()
        return current.generation.manifest

    # ------------------------------------------------------------------ questions

    def check_question(self, question: str) -> str:
        """The question, trimmed; QuestionError when it is empty or too long."""
        return check_question(question, self.max_question_chars)

    def search(
        self, question: str, top: int = 3, scope: TimeScope | None = None, source: str | None = None
    ) -> Answer:
        """The best `top` passages; within `scope` (a period) and `source` when given, besides
        any period the question itself names."""
        searcher, question = self._searcher_for(question)
        return searcher.search(question, top, scope, source)

    def timeline(
        self, question: str, scope: TimeScope | None = None, source: str | None = None
    ) -> Timeline:
        """One answering passage per article, oldest first (see ranking.timeline)."""
        searcher, question = self._searcher_for(question)
        return timeline(searcher, question, scope=scope, source=source)

    def _searcher_for(self, question: str) -> tuple[Searcher, str]:
        """The current searcher and the checked question; MultilingualPendingError for a
        question in another language while the index lacks the multilingual vectors (MiniLM
        would return English noise for it)."""
        searcher, question = self._current(), self.check_question(question)
        missing = self.multilingual is not None and searcher.multilingual is None
        if missing and not is_english(question):
            raise MultilingualPendingError(self.backfill_status())
        return searcher, question

    def backfill_status(self) -> str:
        """What to tell someone who needs the missing multilingual vectors."""
        if self._backfill.running:
            return (
                f"Multilingual search is still being prepared ({self.backfill_percent()}%); "
                "English questions work now."
            )
        return (
            "Multilingual search needs the multilingual vectors, which this index lacks "
            "(run `newsdesk index` to add them); English questions work now."
        )

    def match_topics(self, topics: Sequence[str], article_ids: Sequence[str]) -> list[TopicMatch]:
        """Which of `article_ids` would confidently answer which of `topics` (followed topics
        against newly arrived articles; see embeddings.ranking.topics)."""
        searcher = self._current()
        return match_topics(searcher, topics, article_rows(searcher, article_ids))

    def article_digests(self) -> dict[str, str]:
        """Article id → digest of what was indexed of it: tells new and changed articles."""
        return self._current().generation.article_digests()

    def article(self, article_id: str) -> Article | None:
        """The whole article (all its paragraphs), as indexed."""
        return self._current().generation.article(article_id)

    def stats(self) -> IndexStats:
        generation = self._current().generation
        catalogue = generation.catalogue()
        return IndexStats(
            manifest=generation.manifest,
            generation=generation.name,
            by_source=catalogue.by_source,
            first_date=catalogue.first_date,
            last_date=catalogue.last_date,
            newest_title=catalogue.newest_title,
            disk_bytes=generation.disk_bytes(),
        )
