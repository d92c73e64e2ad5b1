"""How answers read in the chat, end to end through the real bot, the real models and the
loopback Bot API server: the short answer first, passages grouped by article, every article
opened as one message that pages, close declines labelled as uncertain, and the fixed texts in
the question's language."""

from __future__ import annotations

import pytest

from bot.answer_layout import short_answer
from bot.i18n import CATALOGUE, ENGLISH

from .conftest import BotFactory
from .fake_telegram import BotMessage, FakeTelegram
from .test_bot import SULLIVAN, ask, person, press

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

# A paraphrase of the Santorum cocktail interview that shares none of its distinctive words: the
# engine declines it (confidence 0.34, threshold 0.495), but its best match is close
# (bot.answer_layout.is_close) and right.
# Declined, but close (0.25 against 0.358 on the English-only index these tests build).
PARAPHRASE = "Which insects treat themselves with poison when they fall ill?"


def article_labels(message: BotMessage) -> list[str]:
    return [b["text"] for b in message.buttons if b["text"].startswith("📄")]


async def test_each_article_is_cited_once_with_its_passages_under_it(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot(results_per_page=6) as bot:
        reply = await ask(tg, alice, SULLIVAN)
        found = bot.engine.search(SULLIVAN, 15).results[:6]
        titles = list(dict.fromkeys(r.title for r in found))
        assert len(titles) < len(found)  # the page holds several passages of one article
        for number, title in enumerate(titles, start=1):
            assert reply.text.count(title) == 1
            assert f"{number}. {title}" in reply.text
        assert len(reply.formatted("bold")) == 1 + len(found)  # short answer + each passage
        assert article_labels(reply) == [f"📄 {n}" for n in range(1, len(titles) + 1)] or (
            len(titles) == 1 and article_labels(reply) == ["📄 Full article"]
        )


async def test_an_article_is_one_message_that_pages_and_is_never_sent_twice(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot() as bot:
        reply = await ask(tg, alice, SULLIVAN)
        top = bot.engine.search(SULLIVAN).results[0]
        article = bot.engine.article(top.article_id)
        assert article is not None
        assert sum(len(p) for p in article.paragraphs) > 3 * 4096
        label = article_labels(reply)[0]
        opened = await press(tg, alice, reply, label)
        sent = len(tg.messages(alice["id"]))
        assert opened.formatted("bold")[0] == article.title
        assert article.url is not None
        assert {"type": "text_link", "url": article.url} in [
            {k: e.get(k) for k in ("type", "url")} for e in opened.entities
        ]
        pages = int(opened.text.rsplit("/", 1)[1])
        assert pages >= 3
        assert [b["text"] for b in opened.buttons] == ["Next ›"]
        seen = [opened.text]
        for page in range(2, pages + 1):
            tg.press_button(alice, opened, opened.button_data("Next ›"))
            await tg.next_edit(opened, timeout=60)
            assert opened.text.endswith(f"{page} / {pages}")
            assert len(opened.text) <= 4096
            seen.append(opened.text)
        assert [b["text"] for b in opened.buttons] == ["‹ Previous"]
        text = "\n\n".join(seen)
        assert all(paragraph in text for paragraph in article.paragraphs)
        tg.press_button(alice, opened, opened.button_data("‹ Previous"))
        await tg.next_edit(opened, timeout=60)
        assert opened.text.endswith(f"{pages - 1} / {pages}")

        again = tg.press_button(alice, reply, reply.button_data(label))  # pressed again
        notice = await tg.wait_for(lambda: tg.callback_answers.get(again), timeout=60)
        assert notice.text == ENGLISH.article_above
        assert opened.text.endswith(f"1 / {pages}")  # brought back to its first page
        assert len(tg.messages(alice["id"])) == sent  # and nothing sent again


async def test_every_article_of_an_answer_can_be_opened(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot() as bot:
        reply = await ask(tg, alice, SULLIVAN)
        labels = article_labels(reply)
        assert len(labels) >= 2
        found = bot.engine.search(SULLIVAN, 15).results[:3]
        titles = list(dict.fromkeys(r.title for r in found))
        for label, title in zip(labels, titles, strict=True):
            opened = await press(tg, alice, reply, label)
            assert opened.formatted("bold")[0] == title


async def test_a_close_decline_shows_its_match_labelled_as_uncertain(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot() as bot:
        found = bot.engine.search(PARAPHRASE)
        assert not found.answered
        reply = await ask(tg, alice, PARAPHRASE)
        assert reply.text.startswith(ENGLISH.uncertain + "\n")
        assert reply.formatted("italic")[0] == ENGLISH.uncertain
        top = found.results[0]
        assert top.title == "Biologist Nick Bos tells Wikinews about 'self-medicating' ants"
        assert reply.formatted("bold")[0] == short_answer(top, PARAPHRASE)
        assert f"1. {top.title}" in reply.text
        assert [b["text"] for b in reply.buttons] == ["📄 Full article", "More", "👍", "👎"]


async def test_fixed_texts_follow_the_questions_language(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    boris = person(tg, 2, "Boris")
    ru, fr, de = CATALOGUE["ru"], CATALOGUE["fr"], CATALOGUE["de"]
    async with start_bot(rate_limit_per_minute=2):
        absent = await ask(tg, boris, "Сколько спутников у Юпитера и как они называются?")
        assert absent.text == ru.not_found
        assert absent.buttons == []
        long_question = "Что министр иностранных дел Китая сказал об ООН? " * 40
        huge = await ask(tg, boris, long_question)
        length = len(" ".join(long_question.split()))
        assert huge.text == ru.too_long.format(length=f"{length:,}", limit="1,000")
        limited = await ask(tg, boris, "Que s’est-il passé à Bangkok entre les deux pays ?")
        assert limited.text.startswith(fr.rate_limited.split("{")[0])
    # A client set to Chinese: /help in Chinese, a German question answered in German.
    zhang = tg.user(3, "Zhang", language_code="zh-hans")
    async with start_bot():
        help_zh = await ask(tg, zhang, "/help")
        assert help_zh.text.startswith("档案库共收录 281 篇文章")
        assert "@newsdesk_test_bot" in help_zh.text
        german = await ask(tg, zhang, "Was hat Wang Yi über die UN gesagt?")
        assert german.text == de.not_found  # MiniLM alone reads no German: declined
        spanish = await ask(tg, zhang, "¿Qué dijo Wang Yi sobre la ONU y la paz mundial?")
        assert spanish.text in (CATALOGUE["es"].not_found,) or spanish.text.startswith(
            CATALOGUE["es"].uncertain
        )
