"""Article paragraphs → passages that serve retrieval.

- Paragraphs with no real words ("###", "* * *") are dropped.
- Very short paragraphs ("Yeah.", "Sincerely,", a heading, an interviewer's one-line question)
  are merged into the paragraph that follows (the last one into the one before), so a question
  travels with its answer and a heading with its section.
- Paragraphs longer than the model's input window are split on sentence boundaries into pieces
  of about equal size.
- Exact duplicate passages inside one article are kept once.
- A passage quoting someone it does not name ("..., he said") carries that speaker along
  (see `speakers`), so the encoder and BM25 both see who is talking.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from embeddings.ingest.articles import Article
from embeddings.text.sentences import Span, sentence_spans
from embeddings.text.speakers import named_speaker, speakers
from embeddings.text.turns import label_of, question_context, speaker_name, strip_label, turns

TokenCounter = Callable[[str], int]

MIN_WORDS = 8  # below this a paragraph is too thin to retrieve on its own
# Raise it with any change to how articles are cut into passages or who is said to speak them
# (this module, `turns`, `speakers`): an index cut by another version is rebuilt whole on its
# next update (vectors of unchanged texts reused), so the change reaches every article.
# 1: the first recorded; labelled turns keep their own speaker, hosts' questions lead to
# answers, crosstalk in a transcript is no passage.
CHUNKING_VERSION = 1
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrievable unit of an article: its text and its sentences (character spans)."""

    article_id: str
    position: int  # order within the article, from 0
    text: str
    sentences: tuple[Span, ...]
    speaker: str | None = None  # who is quoted, when the text itself leaves it implicit


def model_input(title: str, text: str, speaker: str | None = None) -> str:
    """What the encoder (and BM25) sees for a passage or a sentence: the article title and,
    for a quote that does not name its speaker, the speaker give it its context."""
    body = f"{speaker}: {text}" if speaker else text
    return f"{title}\n{body}" if title else body


def chunk_article(article: Article, count_tokens: TokenCounter, max_tokens: int) -> list[Passage]:
    """Split an article into passages whose model input fits in `max_tokens`.

    In a conversation (see `turns`) an answer turn, all its paragraphs, is one unit with its
    question's asking sentences as context: the passage text is that context, a line break,
    then the answer, and only the answer's sentences are the passage's sentences (so the
    text before the first sentence is what was asked). A question turn with an answer after
    it is no passage of its own."""
    paragraphs = [p for p in article.paragraphs if len(_WORD.findall(p)) > 0]
    passages: list[Passage] = []
    seen: set[str] = set()
    for context, unit, implicit in _units(paragraphs):
        named = named_speaker(unit)
        prefix = f"{context}\n" if context else ""
        for piece in _fit(unit, article.title, count_tokens, max_tokens, prefix):
            key = " ".join(piece.casefold().split())
            if key in seen:
                continue
            seen.add(key)
            # A long paragraph split in two: the second half may lose the name the first had;
            # so does the second piece of a turn, its label. A piece that opens with its
            # speaker's label needs no other.
            label = label_of(piece)
            speaker = None if label and (context or speaker_name(label) == implicit) else implicit
            speaker = speaker or (named if named and named not in piece else None)
            spans = tuple((a + len(prefix), b + len(prefix)) for a, b in sentence_spans(piece))
            passages.append(Passage(article.id, len(passages), prefix + piece, spans, speaker))
    return passages


def _units(paragraphs: list[str]) -> list[tuple[str | None, str, str | None]]:
    """(question context, text, implicit speaker) of each unit to cut into passages."""
    found = turns(paragraphs)
    if not found:
        units = _merge_short(paragraphs)
        return [(None, u, implicit) for u, implicit in zip(units, speakers(units), strict=True)]
    # Outside the exchanges (opening remarks, the moderator), each paragraph keeps the
    # speaker the whole transcript implies for it; within a labelled turn, the turn's speaker
    # ("Q Thanks, Karine." is the reporter's, not the last official's named before it).
    implicit = dict(zip(paragraphs, speakers(paragraphs), strict=True))
    for turn in found:
        implicit.update(dict.fromkeys(paragraphs[turn.first : turn.last], turn.speaker))
    answered = {t.answers for t in found if t.answers is not None}
    out: list[tuple[str | None, str, str | None]] = []
    loose = paragraphs[: found[0].first]  # paragraphs outside any exchange, chunked as prose
    for index, turn in enumerate(found):
        said = paragraphs[turn.first : turn.last]
        if turn.answers is None:
            if index not in answered:
                loose.extend(said)
            continue
        out.extend(_prose(loose, implicit))
        loose = []
        text = "\n".join(said)
        question = found[turn.answers]
        asked = question_context("\n".join(paragraphs[question.first : question.last]), text)
        out.append((asked, text, turn.speaker))
    out.extend(_prose(loose, implicit))
    return out


def _prose(
    paragraphs: list[str], implicit: dict[str, str | None]
) -> list[tuple[str | None, str, str | None]]:
    """Short paragraphs merged forward; a unit takes the implicit speaker of its last part.
    A unit of nothing but short or broken-off lines is crosstalk ("Q Thanks, Karine.",
    "MS. JEAN-PIERRE: Go ahead, Sel- — sorry.", "Q I have one more question on —", a time
    stamp) and no passage: it says nothing a reader could ask about, yet its names match every
    question about its speakers."""
    units = [u for u in _merge_short(paragraphs) if any(map(_says_something, u.split("\n")))]
    return [(None, unit, implicit.get(unit.rsplit("\n", 1)[-1])) for unit in units]


def _says_something(line: str) -> bool:
    """A turn's line that is more than a few words and not cut off mid-sentence."""
    said = strip_label(line).rstrip()
    return len(_WORD.findall(said)) >= MIN_WORDS and not said.endswith(("—", "-", "–"))


def _words(text: str) -> int:
    return len(text.split())


def _merge_short(paragraphs: list[str]) -> list[str]:
    """Carry short paragraphs forward into the next one; a short tail joins the one before."""
    merged: list[str] = []
    pending: list[str] = []
    for paragraph in paragraphs:
        pending.append(paragraph)
        if _words(" ".join(pending)) >= MIN_WORDS:
            merged.append("\n".join(pending))
            pending = []
    if pending:
        if merged:
            merged[-1] = "\n".join([merged[-1], *pending])
        else:
            merged.append("\n".join(pending))
    return merged


def _fit(
    text: str, title: str, count_tokens: TokenCounter, max_tokens: int, prefix: str = ""
) -> list[str]:
    """`text` as one piece if it fits the window (after `prefix`, the question context), else
    balanced runs of whole sentences."""
    total = count_tokens(model_input(title, prefix + text))
    if total <= max_tokens:
        return [text]
    overhead = count_tokens(model_input(title, prefix)) if title or prefix else 0
    budget = max(max_tokens - overhead, max_tokens // 2)
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    sizes = [count_tokens(s) for s in sentences]
    pieces_needed = math.ceil(sum(sizes) / budget)
    target = sum(sizes) / pieces_needed
    pieces: list[str] = []
    current: list[str] = []
    current_size = 0
    for sentence, size in zip(sentences, sizes, strict=True):
        if size > budget:  # one sentence longer than the window: cut it on words
            if current:
                pieces.append(" ".join(current))
                current, current_size = [], 0
            pieces.extend(_split_words(sentence, count_tokens, budget))
            continue
        if current and (current_size + size > budget or current_size >= target):
            pieces.append(" ".join(current))
            current, current_size = [], 0
        current.append(sentence)
        current_size += size
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_words(sentence: str, count_tokens: TokenCounter, budget: int) -> list[str]:
    """A sentence longer than the window cut on words into pieces that fit.

    Each piece is the longest of the candidate lengths rest, 0.8 rest, 0.64 rest, … down to
    one word that fits (tokens per word are roughly constant). Candidates are tried from the
    shortest up, stopping at the first that does not fit: a token count never shrinks as
    words are added, so that is the same piece as trying from the longest down, but each
    piece costs about the tokens of its own length, not of the whole rest of the sentence
    (which made a long unpunctuated text quadratic)."""
    words = sentence.split()
    pieces: list[str] = []
    start = 0
    while start < len(words):
        end = start + 1  # a single word too long for the window is still a piece
        for candidate in reversed(_lengths(len(words) - start)[:-1]):
            if count_tokens(" ".join(words[start : start + candidate])) > budget:
                break
            end = start + candidate
        pieces.append(" ".join(words[start:end]))
        start = end
    return pieces


def _lengths(rest: int) -> list[int]:
    """Candidate piece lengths, longest first: `rest`, then each 0.8 of the one before, to 1."""
    lengths = [rest]
    while lengths[-1] > 1:
        lengths.append(max(1, int(lengths[-1] * 0.8)))
    return lengths
