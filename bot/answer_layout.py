"""How both front ends lay out an answer: the short answer first, then the passages grouped
by the article they come from, and when a declined answer is still worth showing.

Plain text only; bot.telegram.answer_page and bot.cli.render add their own markup.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.text import trim_around
from embeddings import Answer, Result

SHORT_CHARS = 220  # a longer answer sentence is cut to the clause that answers, about this long

# A declined answer whose confidence reaches this share of its calibration's threshold is shown,
# labelled as uncertain; below it the bot only suggests rephrasing. From the decline curves in
# docs/quality.md (held-out halves): for English (threshold about 0.5) a floor of 0.25 brings
# back about two thirds of the answerable questions a decline turns away (2.8% declined at the
# threshold, under 1.2% below the floor) while showing a labelled match for about 5% of the
# questions about topics the archive does not hold. For other languages (threshold 0.175) the
# floor, 0.0875, brings back about half of the wrongly declined (2.6% below 0.1) but shows a
# labelled match for about a quarter of absent-topic questions: there the multilingual
# similarities of absent topics and real answers overlap (see docs/answers.md).
CLOSE_SHARE = 0.5


def is_close(answer: Answer) -> bool:
    """Whether a declined answer's best match is near enough to show, labelled as uncertain."""
    return (
        not answer.answered
        and bool(answer.results)
        and answer.confidence >= CLOSE_SHARE * answer.threshold
    )


@dataclass(frozen=True, slots=True)
class ArticleGroup:
    """The passages of one article among a page of results, in ranking order."""

    indices: tuple[int, ...]  # of its passages among the answer's results
    results: tuple[Result, ...]

    @property
    def first(self) -> int:
        """The index of the article's best passage (the one its button opens)."""
        return self.indices[0]

    @property
    def lead(self) -> Result:
        return self.results[0]


def group_by_article(results: Sequence[Result], offset: int = 0) -> list[ArticleGroup]:
    """`results` grouped by article, articles in the order of their best passage; `offset` is
    the index of `results[0]` among the answer's results (for a page after the first)."""
    members: dict[str, list[tuple[int, Result]]] = {}
    for index, result in enumerate(results, start=offset):
        members.setdefault(result.article_id, []).append((index, result))
    return [
        ArticleGroup(tuple(i for i, _ in group), tuple(r for _, r in group))
        for group in members.values()
    ]


_CLAUSE_END = re.compile(r"[,;:—–]\s+|\s+[-–—]\s+|\(|\)")
_WORD = re.compile(r"[^\W_]+")
_STEM = 5  # words compared by their first letters: "talks" meets "talk", "Chinese" "China"


def _stems(text: str) -> set[str]:
    return {word.lower()[:_STEM] for word in _WORD.findall(text) if len(word) > 2}


def short_answer(result: Result, question: str, limit: int = SHORT_CHARS) -> str:
    """The answering sentence of `result`; when longer than `limit`, the clause sharing most
    words with the question (the first on a tie), with as much of its sentence around it as
    fits, cut at words and marked with "…"."""
    sentence = " ".join(result.answer_sentence.split())
    if len(sentence) <= limit:
        return sentence
    bounds = [0, *(m.end() for m in _CLAUSE_END.finditer(sentence)), len(sentence)]
    clauses = [(start, end) for start, end in itertools.pairwise(bounds) if end > start]
    asked = _stems(question)
    start, end = max(clauses, key=lambda c: (len(asked & _stems(sentence[c[0] : c[1]])), -c[0]))
    if end - start > limit:
        cut = sentence.rfind(" ", start, start + limit)
        end = cut if cut > start else start + limit
        return ("…" if start else "") + sentence[start:end].rstrip(" ,;:") + "…"
    trimmed, _, _ = trim_around(sentence, start, end, limit)
    return trimmed
