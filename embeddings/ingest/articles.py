"""Articles and the file formats they arrive in.

Every parser turns one file into `Article`s plus a list of problems (a broken record inside a
JSON Lines file does not sink the rest of the file). A file that yields nothing raises
`ParseError` with the reason, so callers can report it by name and carry on with the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.errors import ParseError
from embeddings.ingest.extract import extract_page
from embeddings.ingest.fields import strip_nul, text_field
from embeddings.ingest.front_matter import load_front_matter
from embeddings.ingest.links import web_url
from embeddings.ingest.markdown_text import markdown_to_paragraphs
from embeddings.text.sentences import split_sentences

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".jsonl", ".json", ".html", ".htm")
# Files that document an archive folder rather than belong to it (data/README.md credits sources).
_SKIPPED_NAMES = re.compile(r"^(readme|license|licence|changelog)(\.|$)", re.IGNORECASE)
FEED_LIST_NAME = "feeds.txt"  # the data folder's list of news feeds, not an article
_TITLE_CHARS = 90

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Article:
    """One news article: metadata plus its body as paragraphs of plain text."""

    id: str
    title: str
    paragraphs: tuple[str, ...]
    date: str | None = None  # ISO 8601 calendar date, "YYYY-MM-DD"
    url: str | None = None
    source: str | None = None
    license: str | None = None
    path: str = ""  # the file it came from, for reports and incremental updates


@dataclass(slots=True)
class ParsedFile:
    """What one file gave: its articles and the records it had to skip (with reasons)."""

    path: Path
    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- discovery


def discover(paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Article files under `paths` as (root, file) pairs, plus problems (missing paths).

    Directories are walked recursively; hidden entries and README/LICENSE files are skipped
    there, but a file named explicitly is always taken (and rejected later if unsupported).
    """
    found: list[tuple[Path, Path]] = []
    problems: list[str] = []
    for root in paths:
        if root.is_file():
            found.append((root.parent, root))
        elif root.is_dir():
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root).parts
                if any(part.startswith(".") for part in relative) or not path.is_file():
                    continue
                if (
                    path.suffix.lower() in SUPPORTED_SUFFIXES
                    and not _SKIPPED_NAMES.match(path.name)
                    and relative != (FEED_LIST_NAME,)
                ):
                    found.append((root, path))
        else:
            problems.append(f"{root}: no such file or directory")
    return found, problems


def article_id_for(root: Path, path: Path) -> str:
    """A stable id: the path below the folder being indexed, without its suffix."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        relative = Path(path.name)
    return relative.with_suffix("").as_posix()


def is_reserved_name(name: str) -> bool:
    """Whether a file named `name` at the top of a data folder is the folder's own (its
    README or LICENSE, the feed list) rather than an article."""
    return bool(_SKIPPED_NAMES.match(name)) or name.lower() == FEED_LIST_NAME


def parse_file(path: Path, article_id: str | None = None) -> ParsedFile:
    """Parse one file by its suffix. Raises ParseError when nothing usable is in it, OSError
    when it cannot be read.

    Any other failure of a parser on hostile input (a number of more digits than Python
    converts, JSON nested past the recursion limit, a bug) is a ParseError with a short
    reason too: one bad file is skipped by name, never the end of a whole build."""
    text = read_text(path)
    try:
        return _parse_text(path, text, article_id or path.stem)
    except (ParseError, OSError):
        raise
    except Exception as error:
        logger.debug("parsing %s failed", path, exc_info=True)
        raise ParseError(failure_reason(error)) from None


def failure_reason(error: BaseException) -> str:
    """A short reason for an unexpected failure of a parser."""
    if isinstance(error, RecursionError):
        return "nested too deeply to read"
    if isinstance(error, MemoryError):
        return "too large to read"
    if isinstance(error, ValueError) and "integer string conversion" in str(error):
        return "holds a number with too many digits"
    first = (str(error).strip().splitlines() or [""])[0][:120]
    return f"could not be read ({type(error).__name__}{': ' + first if first else ''})"


def _parse_text(path: Path, text: str, base_id: str) -> ParsedFile:
    suffix = path.suffix.lower()
    parsed = ParsedFile(path)
    if suffix == ".txt":
        parsed.articles.append(parse_plain_text(text, base_id))
    elif suffix in (".md", ".markdown"):
        parsed.articles.append(parse_markdown(text, base_id))
    elif suffix == ".jsonl":
        for line_no, record in _json_lines(text):
            _take_record(parsed, record, f"{base_id}:{line_no}", f"line {line_no}")
    elif suffix == ".json":
        for index, record in enumerate(_json_records(text)):
            _take_record(parsed, record, f"{base_id}:{index}", f"record {index}")
    elif suffix in (".html", ".htm"):
        parsed.articles.append(parse_html(text, base_id))
    else:
        kinds = ", ".join(SUPPORTED_SUFFIXES)
        raise ParseError(f"unsupported file type {suffix or '(none)'}; use one of {kinds}")
    if not parsed.articles:
        reasons = "; ".join(parsed.problems[:3]) or "no articles found"
        raise ParseError(reasons)
    parsed.articles = [dataclasses.replace(a, path=str(path)) for a in parsed.articles]
    return parsed


def read_text(path: Path) -> str:
    """The file as text: NUL early on means a binary file; later NULs are dropped."""
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ParseError("binary file, not text")
    try:
        return strip_nul(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ParseError(f"not UTF-8 text (byte {error.start})") from None


# --------------------------------------------------------------------------- plain text

_HEADER_LINE = re.compile(r"^(date|title|url|source)\s+(.+)$", re.IGNORECASE)
_FOOTER_RULE = re.compile(r"^\s*(---+|___+|\*\*\*+)\s*$")
_HANDLE = re.compile(r"@(\w{2,})")


def parse_plain_text(text: str, article_id: str) -> Article:
    """AzerNews-style text: `key value` header lines, blank-line paragraphs, `---` then footer.

    The header is optional (`date 2023-02-22 22 February 2023 ...`, `title ...`, `url ...`,
    `source ...`). Without a title, the lead sentence becomes one. The footer is not article
    text; a social handle in it ("Follow us on Twitter @AzerNewsAz") names the source.
    """
    lines = text.splitlines()
    header: dict[str, str] = {}
    body_start = 0
    for index, line in enumerate(lines):
        match = _HEADER_LINE.match(line.strip())
        if not match:
            break
        header[match.group(1).lower()] = match.group(2).strip()
        body_start = index + 1
    body_lines = lines[body_start:]
    footer: list[str] = []
    for index, line in enumerate(body_lines):
        if _FOOTER_RULE.match(line):
            footer = body_lines[index + 1 :]
            body_lines = body_lines[:index]
            break
    paragraphs = _blank_line_paragraphs(body_lines)
    if not paragraphs:
        raise ParseError("no paragraphs of text")
    source = header.get("source")
    if source is None:
        handle = _HANDLE.search(" ".join(footer))
        source = f"@{handle.group(1)}" if handle else None
    date_value = header.get("date")
    return Article(
        id=article_id,
        title=clean_inline(header.get("title", "")) or lead_title(paragraphs),
        paragraphs=tuple(paragraphs),
        date=normalize_date(date_value.split()[0] if date_value else None)
        or normalize_date(date_value),
        url=web_url(header.get("url")),
        source=source,
    )


def _blank_line_paragraphs(lines: Iterable[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(clean_inline(" ".join(current)))
            current = []
    return [p for p in paragraphs if p]


# --------------------------------------------------------------------------- markdown

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def parse_markdown(text: str, article_id: str) -> Article:
    """Markdown with YAML front matter (title, date, source_url); or a `# Heading` as title."""
    meta: Mapping[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        loaded = load_front_matter(match.group(1))
        if loaded is not None and not isinstance(loaded, dict):
            raise ParseError("front matter is not a mapping of keys to values")
        meta = loaded or {}
        text = text[match.end() :]
    paragraphs, heading = markdown_to_paragraphs(text)
    if not paragraphs:
        raise ParseError("no paragraphs of text")
    title = clean_inline(text_field(meta, "title") or heading or "")
    if not title:
        raise ParseError("no title: add YAML front matter with `title:` or a `# Heading`")
    url = text_field(meta, "source_url") or text_field(meta, "url")
    return Article(
        id=text_field(meta, "id") or article_id,
        title=title,
        paragraphs=tuple(paragraphs),
        date=normalize_date(meta.get("date") or meta.get("published_time")),
        url=web_url(url),
        source=text_field(meta, "source"),
        license=text_field(meta, "license"),
    )


# --------------------------------------------------------------------------- JSON / JSON Lines


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as error:
            yield line_no, ParseError(f"invalid JSON ({error.msg}, column {error.colno})")
        except (ValueError, RecursionError) as error:  # one hostile line, not the whole file
            yield line_no, ParseError(failure_reason(error))


def _json_records(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(f"invalid JSON ({error.msg}, line {error.lineno})") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        return list(data["articles"])
    if isinstance(data, list):
        return data
    return [data]


def _take_record(parsed: ParsedFile, record: Any, fallback_id: str, where: str) -> None:
    try:
        if isinstance(record, ParseError):
            raise record
        article = article_from_record(record, fallback_id)
        try:  # JSON's \ud800 escapes decode to lone surrogates, which UTF-8 cannot store
            json.dumps(dataclasses.asdict(article), ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("contains invalid Unicode (a lone surrogate escape)") from None
        parsed.articles.append(article)
    except ParseError as error:
        parsed.problems.append(f"{where}: {error}")


def article_from_record(record: Any, fallback_id: str) -> Article:
    """One JSON object with `id, title, date, url, source, paragraphs` (or `text`)."""
    if not isinstance(record, dict):
        raise ParseError("not a JSON object")
    raw = record.get("paragraphs")
    if raw is None and isinstance(record.get("text"), str):
        raw = re.split(r"\n\s*\n", record["text"])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ParseError("needs `paragraphs` (a list of strings) or `text` (a string)")
    paragraphs = [clean_inline(p) for p in raw]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise ParseError("no paragraphs of text")
    title = clean_inline(text_field(record, "title") or "") or lead_title(paragraphs)
    return Article(
        id=text_field(record, "id") or fallback_id,
        title=title,
        paragraphs=tuple(paragraphs),
        date=normalize_date(record.get("date")),
        url=web_url(text_field(record, "url")),
        source=text_field(record, "source"),
        license=text_field(record, "license"),
    )


# --------------------------------------------------------------------------- HTML


def parse_html(text: str, article_id: str, url: str | None = None) -> Article:
    """A web page's article (boilerplate removed by `embeddings.ingest.extract`)."""
    page = extract_page(text, url)
    paragraphs = [p for p in (clean_inline(p) for p in page.paragraphs) if p]
    if not paragraphs:
        raise ParseError("no paragraphs of text in the page")
    return Article(
        id=article_id,
        title=clean_inline(page.title) or lead_title(paragraphs),
        paragraphs=tuple(paragraphs),
        date=normalize_date(page.date),
        url=page.url,
        source=page.site_name,
    )


# --------------------------------------------------------------------------- shared helpers

_INVISIBLE = dict.fromkeys(map(ord, "\x00\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def clean_inline(text: str) -> str:
    """NFC, no zero-width or NUL characters, non-breaking spaces as spaces, whitespace
    collapsed."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return " ".join(text.split())


def lead_title(paragraphs: list[str]) -> str:
    """A title for an article that has none: its lead sentence, cut at a word boundary."""
    sentences = split_sentences(paragraphs[0]) or [paragraphs[0]]
    lead = sentences[0].strip()
    if len(lead) <= _TITLE_CHARS:
        return lead
    cut = lead[:_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return f"{cut}…"


_MONTH_FIRST = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b. %d, %Y")
_DAY_FIRST = ("%d %B %Y", "%d %b %Y")


def normalize_date(value: Any) -> str | None:
    """A calendar date as ISO "YYYY-MM-DD", or None when the value is not a recognisable date."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        try:
            return dt.date(*map(int, iso.groups())).isoformat()
        except ValueError:
            return None
    for pattern in _MONTH_FIRST + _DAY_FIRST:
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None
