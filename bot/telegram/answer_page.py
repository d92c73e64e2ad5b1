"""An answer as one Telegram message: the short answer with its source and date on one line,
then the page's passages grouped by article, one numbered citation over each article's passages.

A declined answer whose best match is close (bot.answer_layout.is_close) is shown the same way
under a label saying it may not answer; any other declined answer is a rephrasing hint alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.answer_layout import ArticleGroup, group_by_article, is_close, short_answer
from bot.i18n import ENGLISH, Messages
from bot.telegram.render import (
    PASSAGE_CHARS,
    TELEGRAM_LIMIT,
    citation_fields_html,
    clip,
    escape,
    passage_html,
    visible_length,
)
from bot.text import ASKED_CHARS, asked_line, citation_parts
from bot.when_text import nearest_line, period_line
from embeddings import Answer, Result

_SHORT_UNITS = 300  # the short answer, however hostile its sentence, within this many units


def shows_passages(answer: Answer) -> bool:
    """Whether the reply to `answer` carries passages (and so their buttons)."""
    return answer.answered or is_close(answer)


def answer_page_html(
    answer: Answer,
    results: Sequence[Result],
    offset: int = 0,
    texts: Messages = ENGLISH,
    lead: bool = True,
) -> str:
    """One page of `answer`: `results` are its results from index `offset`; `lead` puts the
    short answer (and, when declined, the uncertain label) first, as on the first page."""
    if not shows_passages(answer):
        # Declined within a period the question named: the dates that do answer, if any.
        return escape(nearest_line(answer) or texts.not_found)
    period = period_line(answer.scope) if lead else None
    head = f"<i>{escape(period)}</i>\n\n" if period else ""
    if lead and results:
        label = "" if answer.answered else f"<i>{escape(texts.uncertain)}</i>\n"
        head += label + _short_answer_html(results[0], answer.question) + "\n\n"
    groups = group_by_article(results, offset)
    first_number = article_number(answer.results, offset)
    chars = PASSAGE_CHARS
    while True:
        body = "\n\n".join(
            _group_html(group, number, chars, texts)
            for number, group in enumerate(groups, start=first_number)
        )
        if visible_length(head + body) <= TELEGRAM_LIMIT or chars == 0:
            return head + body
        chars //= 2


def article_number(results: Sequence[Result], offset: int) -> int:
    """The number the first article of a page from `offset` gets: one more than the articles
    that pages before it showed (each page numbers its own articles)."""
    return 1 + len(group_by_article(results[:offset])) if offset else 1


def _short_answer_html(result: Result, question: str) -> str:
    sentence = clip(short_answer(result, question), _SHORT_UNITS)
    cited = " · ".join(escape(clip(part, 100)) for part in reversed(citation_parts(result)))
    # Telegram refuses an entity over nothing but spaces; such a "sentence" is left plain.
    marked = f"<b>{escape(sentence)}</b>" if sentence.strip() else escape(sentence)
    return marked + (f"\n— {cited}" if cited else "")


def _group_html(group: ArticleGroup, number: int, chars: int, texts: Messages) -> str:
    passages = []
    for result in group.results:
        asked = asked_line(result, min(ASKED_CHARS, chars))
        exchange = f"<i>{escape(asked)}</i>\n" if asked else ""
        passages.append(exchange + passage_html(result, chars))
    citation = citation_fields_html(group.lead, texts.link)
    return f"{number}. {citation}\n" + "\n\n".join(passages)
