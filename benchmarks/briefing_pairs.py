"""Training groups for a reranker from the White House briefing archive: each reporter's
question with the official's answer to it, against other turns of the same conversation.

Press briefings, gaggles and background calls are read the way the engine reads them
(`parse_file`, then `chunk_article`, which pairs each answer turn with the question it answers),
and each question comes with the text that answers it and every other passage of its briefing.
Turns of the same conversation are the hard negatives newsdesk gets wrong: they share the
call's occasion and vocabulary, and only one answers.

Every document of the news sample (by id, URL or title) is left out, so that the evaluations
over the news sample (news-dev, news-said-dev, news-time-dev) stay honest. Source: the
wh-briefings compilation (github.com/brian14708/wh-briefings, CC0-1.0) of White House
briefing-room pages (public domain, 17 U.S.C. 105); see README "Data and licenses".
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from embeddings.errors import ParseError
from embeddings.ingest.articles import Article, parse_file
from embeddings.text.chunking import TokenCounter, chunk_article

MIN_ANSWER_WORDS = 8  # "Thank you." and "Yes." answer nothing a reader asks about
QUESTION_WORDS = (5, 60)  # shorter: "Go ahead."; longer: a speech, not a question


@dataclass(frozen=True, slots=True)
class Conversation:
    """One briefing: its title, every passage's shown text (answers and statements), and
    each reporter's question with the index of the text that answers it."""

    title: str
    texts: list[str]
    pairs: list[tuple[str, int]]


def excluded(sample: Path) -> tuple[set[str], set[str], set[str]]:
    """Ids, URLs and titles of the news sample's documents (one JSON object a line)."""
    ids: set[str] = set()
    urls: set[str] = set()
    titles: set[str] = set()
    with sample.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            ids.add(str(record["id"]))
            urls.add(str(record.get("url") or "").rstrip("/"))
            titles.add(str(record.get("title") or "").strip().casefold())
    return ids, urls - {""}, titles - {""}


def conversations(
    files: Sequence[Path], sample: Path, count_tokens: TokenCounter, max_tokens: int
) -> Iterator[Conversation]:
    """The briefings among `files` outside the news sample that hold at least four answered
    questions."""
    ids, urls, titles = excluded(sample)
    for path in files:
        if f"wh-{path.stem}" in ids:
            continue
        try:
            parsed = parse_file(path)
        except (ParseError, OSError):
            continue
        for article in parsed.articles:
            url, title = (article.url or "").rstrip("/"), article.title.strip().casefold()
            if url in urls or title in titles:
                continue
            found = _conversation(article, count_tokens, max_tokens)
            if len(found.pairs) >= 4:
                yield found


def _conversation(article: Article, count_tokens: TokenCounter, max_tokens: int) -> Conversation:
    texts: list[str] = []
    pairs: list[tuple[str, int]] = []
    for passage in chunk_article(article, count_tokens, max_tokens):
        # An answer turn's text is its question, a line break, then the answer.
        opens = passage.sentences[0][0] if passage.sentences else 0
        answer = passage.text[opens:].strip()
        if len(answer.split()) < MIN_ANSWER_WORDS:
            continue
        asked = passage.text[:opens].strip()
        if asked and QUESTION_WORDS[0] <= len(asked.split()) <= QUESTION_WORDS[1]:
            pairs.append((asked, len(texts)))
        texts.append(answer)
    return Conversation(article.title, texts, pairs)


def write(found: Iterable[Conversation], path: Path, pairs: int) -> tuple[int, int]:
    """Conversations as gzipped JSON lines until they hold `pairs` questions; how many
    conversations and questions were written."""
    written = asked = 0
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for conversation in found:
            out.write(json.dumps(asdict(conversation)) + "\n")
            written += 1
            asked += len(conversation.pairs)
            if asked >= pairs:
                break
    return written, asked
