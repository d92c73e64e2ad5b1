"""The engine as its front ends use it: one index (a directory, or a database), one model,
thread-safe.

Searches run on whatever generation is current when they start; a build (in this process or
another, on this machine or another replica) switches the current generation atomically and
the next search picks the new generation up.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import tempfile
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import (
    IndexIncompatibleError,
    IndexMissingError,
    ParseError,
    QuestionError,
)
from embeddings.index.backend import IndexStore
from embeddings.index.directory.store import DirectoryStore, Manifest
from embeddings.index.indexer import BuildSummary, ProgressCallback, build_index, compact_index
from embeddings.ingest.articles import SUPPORTED_SUFFIXES, Article, article_id_for, parse_file
from embeddings.models.encoder import Encoder
from embeddings.models.multilingual import MultilingualEncoder
from embeddings.ranking.search import Answer, Searcher
from embeddings.text.language import load_identifier

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
        index: Path | IndexStore,
        encoder: Encoder,
        max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS,
        multilingual: MultilingualEncoder | None = None,
    ) -> None:
        # A path is the embedded default: FAISS files in that directory.
        self.store: IndexStore = DirectoryStore(index) if isinstance(index, Path) else index
        self.encoder = encoder
        self.multilingual = multilingual
        self.max_question_chars = max_question_chars
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._token: Hashable | None = None

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
                        "Rebuild it with `newsdesk index` (or /reindex in the bot)"
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
        self,
        sources: Sequence[Path],
        progress: ProgressCallback | None = None,
        english_only: bool = False,
    ) -> BuildSummary:
        """Re-index `sources` (incrementally) and serve the result from the next search on.

        `english_only` skips the multilingual vectors (about three quarters of the encoding
        time); a later full build adds them and reuses everything else."""
        multilingual = None if english_only else self.multilingual
        summary = build_index(sources, self.store, self.encoder, progress, multilingual)
        self._current()  # load the new generation here, not in the next reader's question
        return summary

    def compact(
        self, sources: Sequence[Path], progress: ProgressCallback | None = None
    ) -> BuildSummary:
        """Fold the delta into a new base (after a build said `compaction_due`), keeping the
        languages the current index has; questions are answered meanwhile."""
        keep = self.has_index() and self.reads_other_languages()
        multilingual = self.multilingual if keep else None
        summary = compact_index(sources, self.store, self.encoder, progress, multilingual)
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
        owners = {row[0]: row[1] for row in self._known_articles()}
        target = data_dir / name
        for article in articles:
            owner = owners.get(article.id)
            if owner and Path(owner).resolve() != target.resolve():
                raise ParseError(f"article id {article.id!r} is already used by {owner}")
        previous = target.read_bytes() if target.exists() else None
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_file(target, content)
        try:
            summary = self.build([data_dir], progress)
        except BaseException:
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                _write_file(target, previous)
            raise
        return articles, summary

    def _known_articles(self) -> list[tuple[str, str]]:
        if not self.has_index():
            return []
        rows = self._current().generation.query("SELECT id, path FROM articles")
        return [(str(a), str(b)) for a, b in rows]

    def load(self) -> Manifest:
        """Open the current index now, and the language identifier when questions in other
        languages are read, so the first question pays for neither."""
        current = self._current()
        if current.multilingual is not None:
            load_identifier()
        return current.generation.manifest

    # ------------------------------------------------------------------ questions

    def check_question(self, question: str) -> str:
        """The question, trimmed; QuestionError when it is empty or too long.

        HTML entities are decoded ("AT&amp;T" pasted from a web page means AT&T); anything
        else, tags included, stays plain text to search for."""
        text = " ".join(html.unescape(question).split())
        if not text:
            raise QuestionError("the question is empty")
        if len(text) > self.max_question_chars:
            raise QuestionError(
                f"the question is {len(text):,} characters long; "
                f"please keep it under {self.max_question_chars:,}"
            )
        return text

    def search(self, question: str, top: int = 3) -> Answer:
        return self._current().search(self.check_question(question), top=top)

    def article(self, article_id: str) -> Article | None:
        """The whole article (all its paragraphs), as indexed."""
        rows = self._current().generation.query(
            "SELECT id, title, paragraphs, date, url, source, license, path "
            "FROM articles WHERE id = ?",
            [article_id],
        )
        if not rows:
            return None
        id_, title, paragraphs, date, url, source, license_, path = rows[0]
        return Article(
            id=id_,
            title=title,
            paragraphs=tuple(json.loads(paragraphs)),
            date=date,
            url=url,
            source=source,
            license=license_,
            path=path,
        )

    def stats(self) -> IndexStats:
        generation = self._current().generation
        by_source = {
            str(source): int(count)
            for source, count in generation.query(
                "SELECT COALESCE(source, 'unknown'), COUNT(*) FROM articles "
                "GROUP BY 1 ORDER BY 2 DESC, 1"
            )
        }
        first, last = generation.query("SELECT MIN(date), MAX(date) FROM articles")[0]
        newest = generation.query(
            "SELECT title FROM articles WHERE date IS NOT NULL ORDER BY date DESC, id LIMIT 1"
        )
        return IndexStats(
            manifest=generation.manifest,
            generation=generation.name,
            by_source=by_source,
            first_date=first,
            last_date=last,
            newest_title=newest[0][0] if newest else None,
            disk_bytes=generation.disk_bytes(),
        )


_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_filename(filename: str) -> str:
    """A plain file name (no folders, no hidden files) with a supported suffix, or ParseError."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ParseError(
            f"{filename!r} is not a file type newsdesk reads; "
            f"send one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not Path(name).stem:
        raise ParseError(f"{filename!r} needs a name before its suffix")
    return name


def validate_upload(name: str, content: bytes, data_dir: Path) -> list[Article]:
    """Parse `content` as it would be read from `data_dir/name`; every record must be valid."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-upload-") as scratch:
        path = Path(scratch) / name
        path.write_bytes(content)
        parsed = parse_file(path, article_id_for(Path(scratch), path))
    if parsed.problems:
        shown = "; ".join(parsed.problems[:3])
        more = f" (and {len(parsed.problems) - 3} more)" if len(parsed.problems) > 3 else ""
        raise ParseError(f"{shown}{more}")
    return [dataclasses.replace(a, path=str(data_dir / name)) for a in parsed.articles]


def _write_file(target: Path, content: bytes) -> None:
    """Write via a hidden temporary file (never picked up by indexing) and an atomic rename."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, target)
