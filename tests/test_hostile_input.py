"""Property tests over what strangers can send or upload: arbitrary Unicode (controls, RTL
marks, zero-width joiners, emoji, astral characters), huge and empty texts. Rendering always
gives HTML Telegram accepts, within 4,096 characters; parsers and checks either accept or
reject with a clear error, never crash; an upload's name never leads outside the data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import CATALOGUE
from bot.telegram.answer_page import answer_page_html
from bot.telegram.article_pages import article_pages
from bot.telegram.questions import is_small_talk
from bot.telegram.render import TELEGRAM_LIMIT, visible_length
from embeddings import Answer, Article, Engine, ParseError, QuestionError, Result, parse_file
from embeddings.index.stores import open_store
from embeddings.ingest.upload import safe_filename
from embeddings.models.tiny import TinyEncoder

from .e2e.telegram_html import parse_html, utf16_len

# Bounded so the whole file runs in seconds.
FEW = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ODD = ["\u200f", "\u200e", "\u202e", "\u200d", "\u2066", "\ufeff", "\x00", "\x1b", "\r",
       "👩‍👩‍👧‍👦", "🇺🇦", "&amp;", "<b>", "</i>", "<a href='x'>", "&#0;", "\U0001d400"]  # fmt: skip
# Telegram carries UTF-16 text, so lone surrogates never arrive; everything else may.
chars = st.characters(blacklist_categories=("Cs",))
texts = st.one_of(
    st.text(chars, max_size=300),
    st.lists(st.sampled_from(ODD) | st.text(chars, max_size=5), max_size=60).map("".join),
)
# Long texts cheaply: a short odd text repeated (drawing 9,000 characters one by one is slow).
big_texts = st.one_of(
    texts,
    st.builds(lambda part, times: (part or "x") * times, texts, st.integers(50, 3000)),
)


@st.composite
def results(draw: st.DrawFn) -> Result:
    text = draw(big_texts)
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    return Result(
        article_id=draw(texts),
        title=draw(big_texts),
        date=draw(st.none() | texts | st.just("2024-02-29")),
        url=draw(st.none() | texts),
        source=draw(st.none() | big_texts),
        position=0,
        text=text,
        answer_start=start,
        answer_end=end,
        score=1.0,
    )


def telegram_accepts(markup: str) -> None:
    plain, _ = parse_html(markup)  # raises if Telegram would refuse the HTML
    assert utf16_len(plain) <= TELEGRAM_LIMIT
    assert visible_length(markup) <= TELEGRAM_LIMIT


@FEW
@given(st.lists(results(), min_size=1, max_size=10))
def test_any_page_of_results_is_valid_html_within_one_message(page: list[Result]) -> None:
    answer = Answer(question="q", answered=True, confidence=0.9, results=page)
    telegram_accepts(answer_page_html(answer, page))
    close = Answer(question="q", answered=False, confidence=0.4, results=page, threshold=0.5)
    telegram_accepts(answer_page_html(close, page, texts=CATALOGUE["ru"]))
    later = Answer(question="q", answered=True, confidence=0.9, results=[*page, *page])
    telegram_accepts(answer_page_html(later, page, offset=len(page), lead=False))


@FEW
@given(big_texts, st.lists(big_texts, min_size=1, max_size=8), st.none() | texts)
def test_any_article_splits_into_valid_messages_each_within_the_limit(
    title: str, paragraphs: list[str], url: str | None
) -> None:
    article = Article(id="a", title=title, paragraphs=tuple(paragraphs), url=url)
    for texts in (CATALOGUE["en"], CATALOGUE["ar"]):
        for page in article_pages(article, texts):
            telegram_accepts(page)


@FEW
@given(st.one_of(big_texts, st.builds(lambda part: (part or "?") * 100_000, texts)))
def test_a_question_is_accepted_or_refused_with_a_reason_never_crashes(text: str) -> None:
    engine = Engine(open_store(Path("/nonexistent-index")), TinyEncoder())
    is_small_talk(text)
    checked: str | QuestionError
    try:
        checked = engine.check_question(text)
    except QuestionError as error:
        checked = error
    if isinstance(checked, QuestionError):
        assert str(checked)
    else:
        assert checked
        assert len(checked) <= engine.max_question_chars


SUFFIXES = [".txt", ".md", ".jsonl", ".json", ".html"]


@FEW
@given(st.sampled_from(SUFFIXES), st.binary(max_size=3000) | texts.map(str.encode))
def test_any_bytes_parse_or_are_refused_with_a_parse_error(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("parse") / f"upload{suffix}"
    path.write_bytes(content)
    try:
        parsed = parse_file(path)
    except ParseError as error:
        refused = str(error)
        assert refused
        return
    for article in parsed.articles:
        # What gets indexed must be encodable: digests and SQLite take UTF-8.
        for part in (article.title, *article.paragraphs):
            part.encode("utf-8")


def test_lone_surrogates_in_json_are_refused_not_indexed(tmp_path: Path) -> None:
    path = tmp_path / "sneaky.jsonl"
    path.write_text(json.dumps({"id": "x", "title": "T \ud800", "paragraphs": ["a \udfff b"]}))
    with pytest.raises(ParseError):
        parse_file(path)


@FEW
@given(st.text(chars, max_size=80) | st.sampled_from(
    ["../../etc/passwd.txt", "..\\..\\win.ini.txt", "/abs/x.md", ".hidden.txt", "a/../../b.json",
     "....txt", "x.txt\x00.sh", "con.txt", " .txt", "⁄etc⁄passwd.txt", "..", "."]
))  # fmt: skip
def test_an_upload_name_never_leads_outside_the_data_folder(name: str) -> None:
    data = Path("/srv/newsdesk/data")
    try:
        safe = safe_filename(name)
    except ParseError as error:
        refused = str(error)
        assert refused
        return
    assert "/" not in safe
    assert "\\" not in safe
    assert "\x00" not in safe
    assert not safe.startswith(".")
    assert (data / safe).resolve().parent == data
