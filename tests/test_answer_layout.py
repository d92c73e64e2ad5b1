"""The layout of an answer: short answer first, passages grouped by article, close declines,
articles paged within one message, and the fixed texts in the question's language."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.answer_layout import SHORT_CHARS, group_by_article, is_close, short_answer
from bot.cli.render import json_answer, terminal_answer
from bot.i18n import CATALOGUE, ENGLISH, Messages, messages_for
from bot.telegram.answer_page import answer_page_html
from bot.telegram.article_pages import article_pages
from bot.telegram.open_articles import OpenArticles
from bot.telegram.render import TELEGRAM_LIMIT, visible_length
from embeddings import Answer, Article, Result
from embeddings.text.language import language_of

from .e2e.telegram_html import parse_html


def passage(
    article: str, text: str = "Before. The answer is here. After.", **fields: object
) -> Result:
    start = text.index("The answer") if "The answer" in text else 0
    end = text.index(".", start) + 1 if "." in text[start:] else len(text)
    values: dict[str, object] = {
        "article_id": article, "title": f"Title of {article}", "date": "2023-02-22",
        "url": f"https://e.org/{article}", "source": "Wire", "position": 0, "text": text,
        "answer_start": start, "answer_end": end, "score": 1.0,
    }  # fmt: skip
    values.update(fields)
    return Result(**values)  # type: ignore[arg-type]


def test_passages_are_grouped_by_article_in_order_of_their_best_passage() -> None:
    results = [passage("a"), passage("b"), passage("a", position=3), passage("c"), passage("b")]
    groups = group_by_article(results)
    assert [g.lead.article_id for g in groups] == ["a", "b", "c"]
    assert [g.indices for g in groups] == [(0, 2), (1, 4), (3,)]
    later = group_by_article(results[3:], offset=3)
    assert [g.indices for g in later] == [(3,), (4,)]


def test_one_citation_per_article_and_the_short_answer_first() -> None:
    results = [passage("a"), passage("a", "Other. The answer again. Tail."), passage("b")]
    html = answer_page_html(Answer("Where is the answer?", True, 0.9, results), results)
    plain, entities = parse_html(html)
    assert plain.startswith("The answer is here.\n— Wire · 22 Feb 2023\n\n1. Title of a")
    assert plain.count("Title of a") == 1
    assert plain.index("The answer again.") < plain.index("2. Title of b")
    assert html.count('<a href="https://e.org/a">link</a>') == 1
    assert [e["type"] for e in entities][:1] == ["bold"]


def test_a_later_page_numbers_its_articles_after_those_already_shown() -> None:
    results = [passage("a"), passage("b"), passage("a"), passage("c")]
    answer = Answer("q", True, 0.9, results)
    html = answer_page_html(answer, results[2:], offset=2, lead=False)
    assert html.startswith("3. ")  # a and b were 1 and 2; a again is its own entry here
    assert "\n\n4. " in html


def test_a_long_answer_sentence_is_cut_to_the_clause_that_answers() -> None:
    sentence = (
        "Speaking at length about the regional situation, which had changed a great deal over "
        "the past years and months of negotiations between many delegations, the minister said "
        "that the export controls on advanced semiconductors would remain in force until next "
        "year, while adding several remarks about trade, shipping and the weather."
    )
    result = passage("a", sentence, answer_start=0, answer_end=len(sentence))
    short = short_answer(result, "What did the minister say about export controls?")
    assert "export controls on advanced semiconductors" in short
    assert len(short) <= SHORT_CHARS + 2
    assert short.startswith("…")
    assert short.endswith("…")
    assert short_answer(passage("a"), "anything") == "The answer is here."


def test_a_declined_answer_is_shown_as_uncertain_only_when_close() -> None:
    results = [passage("a")]
    close = Answer("q", False, 0.3, results, threshold=0.5)
    far = Answer("q", False, 0.2, results, threshold=0.5)
    assert is_close(close)
    assert not is_close(far)
    assert not is_close(Answer("q", True, 0.9, results, threshold=0.5))
    assert not is_close(Answer("q", False, 0.4, [], threshold=0.5))
    shown = answer_page_html(close, results, texts=CATALOGUE["de"])
    assert shown.startswith(f"<i>{CATALOGUE['de'].uncertain}</i>\n<b>The answer is here.</b>")
    assert answer_page_html(far, results, texts=CATALOGUE["fr"]) == CATALOGUE["fr"].not_found
    terminal = terminal_answer(close, str)
    assert "Closest match (uncertain): The answer is here." in terminal
    assert "(uncertain)" not in terminal_answer(far, str)


def test_json_keeps_its_fields_and_adds_the_layout() -> None:
    results = [passage("a"), passage("b"), passage("a")]
    data = json_answer(Answer("q", True, 0.9, results))
    assert set(data) >= {"question", "answered", "results"}
    assert set(data["results"][0]) >= {
        "article_id", "title", "date", "url", "text", "asked", "answer_sentence", "score",
    }  # fmt: skip
    assert data["short_answer"] == "The answer is here."
    assert data["uncertain"] is False
    assert [a["results"] for a in data["articles"]] == [[0, 2], [1]]


def test_terminal_cites_each_article_once_with_its_passages_under_it() -> None:
    results = [passage("a"), passage("b"), passage("a", "X. The answer twice. Y.")]
    terminal = terminal_answer(Answer("q", True, 0.9, results), lambda s: f"**{s}**")
    assert terminal.startswith("Answer: **The answer is here.**\n— Wire · 22 Feb 2023\n\n1. ")
    assert terminal.count("Title of a") == 1
    assert terminal.index("**The answer twice.**") < terminal.index("2. Title of b")


def test_an_article_pages_between_paragraphs_within_the_limit() -> None:
    paragraphs = tuple(f"Paragraph {i} " + "x" * 900 for i in range(12))
    article = Article(id="a", title="Long & winding", paragraphs=paragraphs, url="https://e.org")
    pages = article_pages(article, ENGLISH)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert visible_length(page) <= TELEGRAM_LIMIT
        assert page.startswith("<b>Long &amp; winding</b>\n— <i>Long &amp; winding</i>")
        assert '<a href="https://e.org">link</a>' in page
        assert page.endswith(f"<i>{number} / {len(pages)}</i>")
    joined = "\n\n".join(pages)
    assert all(p in joined for p in paragraphs)  # nothing lost, no paragraph cut


def test_a_paragraph_longer_than_a_page_is_cut_between_words() -> None:
    article = Article(id="a", title="T", paragraphs=("word " * 2000, "😀" * 5000))
    pages = article_pages(article, CATALOGUE["ru"])
    assert all(visible_length(p) <= TELEGRAM_LIMIT for p in pages)
    assert sum(p.count("word") for p in pages) == 2000
    assert sum(p.count("😀") for p in pages) == 5000
    assert "ссылка" not in pages[0]  # no url, no link
    short = article_pages(Article(id="b", title="T", paragraphs=("Just this.",)), ENGLISH)
    assert short == ["<b>T</b>\n— <i>T</i>\n\nJust this."]


def test_an_article_is_opened_once_per_answer_and_button() -> None:
    opened = OpenArticles(capacity=2)
    assert opened.claim("t", 0) == (True, None)
    assert opened.claim("t", 0) == (False, None)  # the first press is still sending
    opened.opened("t", 0, 5, 77)
    assert opened.claim("t", 0) == (False, (5, 77))
    assert opened.claim("t", 1) == (True, None)
    opened.release("t", 1)
    assert opened.claim("t", 1) == (True, None)
    assert opened.claim("u", 0) == (True, None)  # over capacity: the oldest is forgotten
    assert opened.claim("t", 0) == (True, None)


def test_every_language_has_every_text_and_fields_only_where_english_has_them() -> None:
    assert set(CATALOGUE) >= {"en", "ru", "zh", "ar", "de", "es", "fr"}
    html_fields = {"holds", "holds_span", "how_to_ask"}
    for code, texts in CATALOGUE.items():
        for field in dataclasses.fields(Messages):
            text, english = getattr(texts, field.name), getattr(ENGLISH, field.name)
            assert text.strip(), (code, field.name)
            fields = sorted(re.findall(r"\{\w+\}", text))
            assert fields == sorted(re.findall(r"\{\w+\}", english)), (code, field.name)
            if field.name in html_fields:
                parse_html(text.format(count="1", first="a", last="b", bot="bot"))
            else:
                assert not {"<", "&"} & set(text), (code, field.name)
            if code != "en" and field.name not in {"link"}:
                assert text != english, (code, field.name)


@pytest.mark.parametrize(
    ("tag", "language"),
    [("ru", "ru"), ("zh-hans", "zh"), ("pt-br", "en"), (None, "en"), ("DE", "de"), ("", "en")],
)
def test_a_telegram_language_tag_picks_the_texts(tag: str | None, language: str) -> None:
    assert messages_for(tag) is CATALOGUE[language]


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("What did Wang Yi say about the UN?", "en"),
        ("Что Ван И сказал об ООН?", "ru"),
        ("王毅对联合国说了什么？", "zh"),
        ("ماذا قال وانغ يي عن الأمم المتحدة؟", "ar"),
        ("Was hat der Außenminister über die Vereinten Nationen gesagt?", "de"),
        ("¿Qué dijo el ministro de Asuntos Exteriores sobre las Naciones Unidas?", "es"),
        ("Qu’a dit le ministre des Affaires étrangères à propos des Nations unies ?", "fr"),
    ],
)
def test_the_question_language_is_read_from_the_question(question: str, language: str) -> None:
    assert language_of(question) == language
