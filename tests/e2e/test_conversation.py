"""The conversation end to end (real engine and models on the shipped archive, real HTTP to
the loopback Bot API): threaded replies, follow-ups, edited questions, photos and other
messages, buttons after a restart, inline hints and the operator's log lines."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.answer_layout import short_answer
from bot.telegram.other_messages import (
    ADMINS_ONLY_FILES,
    GREETING,
    UNKNOWN_COMMAND,
    WELCOME,
    WHAT_I_DO,
)

from ..helpers import WANG_YI_QUESTION, WANG_YI_UN
from .conftest import ADMIN_ID, BotFactory, RunningBot
from .fake_telegram import BotMessage, FakeTelegram

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

ABSENT = "How many moons does Jupiter have?"
SULLIVAN = "What did Jake Sullivan say about Wang Yi?"

# (previous question, follow-up, what the follow-up is read as)
FOLLOW_UPS = [
    (WANG_YI_QUESTION, "And what did he say about Ukraine?", "What did Wang Yi say about Ukraine?"),
    (WANG_YI_QUESTION, "what about Russia?", "What did Wang Yi say about Russia?"),
    (
        WANG_YI_QUESTION,
        "And the Security Council?",
        "What did Wang Yi say about the Security Council?",
    ),
    (WANG_YI_QUESTION, "Why did he say that?", "Why did Wang Yi say that?"),
    (WANG_YI_QUESTION, "Who did he meet?", "Who did Wang Yi meet?"),
    (
        SULLIVAN,
        "And what did he say about export controls?",
        "What did Jake Sullivan say about export controls?",
    ),
    (SULLIVAN, "what about Bangkok?", "What did Jake Sullivan say about Bangkok?"),
    (SULLIVAN, "And Vienna?", "What did Jake Sullivan say about Vienna?"),
    (SULLIVAN, "How about Taiwan?", "What did Jake Sullivan say about Taiwan?"),
    (SULLIVAN, "What did his team say?", "What did Jake Sullivan’s team say?"),
    (SULLIVAN, "And in 2023?", "What did Jake Sullivan say about Wang Yi, in 2023?"),
    (SULLIVAN, "When did he say it?", "When did Jake Sullivan say it?"),
]
# New complete questions after an answer: searched as asked.
NOT_FOLLOW_UPS = [
    (SULLIVAN, WANG_YI_QUESTION),
    (WANG_YI_QUESTION, ABSENT),
    (WANG_YI_QUESTION, "What did President Biden say about the debt ceiling?"),
]


def person(tg: FakeTelegram, user_id: int, name: str) -> dict[str, Any]:
    return tg.user(user_id, name, username=name.lower())


async def exchange(
    tg: FakeTelegram, user: dict[str, Any], text: str, **kwargs: Any
) -> tuple[dict[str, Any], BotMessage]:
    """The user's message and the bot's reply to it."""
    mark = tg.mark()
    sent = tg.send_text(user, text, **kwargs)
    chat = kwargs.get("chat") or user
    return sent, await tg.next_bot_message(chat["id"], after=mark, timeout=60)


def top_sentence(bot: RunningBot, question: str) -> str | None:
    """The short answer the bot leads with, when it answers."""
    found = bot.engine.search(question)
    return short_answer(found.results[0], found.question) if found.answered else None


async def test_every_reply_threads_to_its_question_in_a_burst(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    group = tg.group_chat(-100, "Newsroom")
    async with start_bot(rate_limit_per_minute=3):
        mark = tg.mark()
        sent = [tg.send_text(alice, f"{WANG_YI_QUESTION} ({n})") for n in range(6)]
        # Three answers and one notice (a user over the limit is warned once a minute, then
        # not answered, so a flood costs no replies); each replies to the message it is about.
        replies = await tg.wait_for(
            lambda: (
                (got := [m for m in tg.messages(alice["id"]) if m.seq > mark.seq])
                and len(got) == 4
                and got
            ),
            timeout=60,
        )
        await asyncio.sleep(0.5)  # a fifth reply would arrive by now
        assert len([m for m in tg.messages(alice["id"]) if m.seq > mark.seq]) == 4
        by_question = {m.reply_to_message_id: m for m in replies}
        assert len(by_question) == 4
        assert set(by_question) <= {message["message_id"] for message in sent}
        notices = [m for m in replies if m.text.startswith("You're asking faster")]
        assert len(notices) == 1
        answered = {m.reply_to_message_id for m in replies if m not in notices}
        assert answered == {message["message_id"] for message in sent[:3]}
        bob = person(tg, 2, "Bob")  # Alice is over the limit for a minute
        _, in_group = await exchange(tg, bob, f"/ask {ABSENT}", chat=group)
        assert in_group.reply_to_message_id is not None


async def test_follow_ups_are_read_with_the_previous_question(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot(rate_limit_per_minute=1000) as bot:
        for previous, follow_up, understood in FOLLOW_UPS:
            await exchange(tg, alice, previous)
            _, reply = await exchange(tg, alice, follow_up)
            assert reply.text.startswith(f"Searching: {understood}\n"), (follow_up, reply.text)
            assert reply.formatted("italic")[0] == f"Searching: {understood}"
            expected = top_sentence(bot, understood)
            if expected is not None:
                assert reply.formatted("bold")[0] == expected
        for previous, question in NOT_FOLLOW_UPS:
            await exchange(tg, alice, previous)
            _, reply = await exchange(tg, alice, question)
            assert "Searching:" not in reply.text


async def test_a_reply_to_an_answer_follows_up_on_it_after_the_window(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    group = tg.group_chat(-100, "Newsroom")
    async with start_bot(followup_seconds=0):
        _, answer = await exchange(tg, alice, f"/ask {WANG_YI_QUESTION}", chat=group)
        _, late = await exchange(tg, alice, "what about Russia?")  # other chat, no reply
        assert "Searching:" not in late.text
        _, followed = await exchange(
            tg, alice, "And what did he say about Ukraine?", chat=group, reply_to=answer
        )
        assert followed.text.startswith("Searching: What did Wang Yi say about Ukraine?")


async def test_an_edited_question_gets_its_answer_edited(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot():
        question, answer = await exchange(tg, alice, ABSENT)
        assert answer.text.startswith("I couldn't find anything")
        tg.edit_text(alice, question, WANG_YI_QUESTION)
        edited = await tg.next_edit(answer, timeout=60)
        assert edited.formatted("bold")[0] == WANG_YI_UN
        assert len(tg.messages(alice["id"])) == 1  # edited in place, nothing new sent


async def test_photos_stickers_voice_and_small_talk_get_one_line(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot():
        mark = tg.mark()
        photo = tg.send_photo(alice, caption=WANG_YI_QUESTION)
        answer = await tg.next_bot_message(alice["id"], after=mark, timeout=60)
        assert answer.formatted("bold")[0] == WANG_YI_UN
        assert answer.reply_to_message_id == photo["message_id"]
        for kind in ("sticker", "voice", "video", "video_note", "audio"):
            mark = tg.mark()
            sent = tg.send_media(alice, kind)
            line = await tg.next_bot_message(alice["id"], after=mark, timeout=30)
            assert line.text == WHAT_I_DO, kind
            assert line.reply_to_message_id == sent["message_id"]
        mark = tg.mark()
        tg.send_photo(alice)
        assert (await tg.next_bot_message(alice["id"], after=mark)).text == WHAT_I_DO
        assert (await exchange(tg, alice, "hi"))[1].text == GREETING
        assert (await exchange(tg, alice, "Thanks!"))[1].text == WELCOME
        assert (await exchange(tg, alice, "/frobnicate"))[1].text == UNKNOWN_COMMAND
        mark = tg.mark()
        tg.send_document(alice, "story.md", b"# A story\n\nSomething happened.")
        assert (await tg.next_bot_message(alice["id"], after=mark)).text == ADMINS_ONLY_FILES


async def test_buttons_keep_working_after_a_restart(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot():
        _, answer = await exchange(tg, alice, WANG_YI_QUESTION)
    async with start_bot():
        mark = tg.mark()
        tg.press_button(alice, answer, answer.button_data("More"))
        more = await tg.next_bot_message(alice["id"], after=mark, timeout=60)
        assert more.text.startswith("4. ")


async def test_inline_hints_descriptions_and_citations(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    alice = person(tg, 1, "Alice")
    async with start_bot() as bot:
        for query_text, title in (
            ("", "Type a question about the news archive"),
            (ABSENT, "Nothing in the archive answers that"),
        ):
            query = tg.inline_query(alice, query_text)
            results = await tg.wait_for(lambda q=query: tg.inline_answers.get(q), timeout=60)
            assert [r["title"] for r in results] == [title]
        asked = "What did Jake Sullivan say about the talks in Vienna?"
        query = tg.inline_query(alice, asked)
        results = await tg.wait_for(lambda: tg.inline_answers.get(query), timeout=60)
        found = bot.engine.search(asked, len(results)).results
        for result, passage in zip(results, found, strict=True):
            sentence = " ".join(passage.answer_sentence.split())
            description = result["description"]
            assert len(description) <= 200
            cut = description.removesuffix("…")
            assert sentence.startswith(cut)
            assert cut == sentence or sentence[len(cut)] in " ,;:-—"  # between words
        shared = tg.choose_inline_result(alice, query, results[0]["id"])
        assert shared.text.splitlines()[-1].startswith("— " + results[0]["title"][:20])
        assert shared.formatted("italic")


async def test_reindex_and_upload_each_log_one_line(
    tg: FakeTelegram, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    admin = person(tg, ADMIN_ID, "Admin")
    caplog.set_level(logging.INFO, logger="bot.telegram.admin")
    async with start_bot():
        mark = tg.mark()
        tg.send_text(admin, "/reindex")
        status = await tg.next_bot_message(admin["id"], after=mark, timeout=60)
        await tg.wait_for(lambda: "Index updated" in status.text, timeout=120)
        mark = tg.mark()
        story = b"---\ntitle: A quiet day\ndate: 2023-03-01\n---\n\nNothing happened at all today."
        tg.send_document(admin, "quiet.md", story)
        upload = await tg.next_bot_message(admin["id"], after=mark, timeout=60)
        await tg.wait_for(lambda: upload.text.startswith("Added"), timeout=120)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.admin"]
    assert sum(line.startswith("reindex: Index updated in ") for line in lines) == 1
    assert sum(line.startswith("upload 'quiet.md': added 1 article(s); ") for line in lines) == 1
    assert all("\n" not in line for line in lines)
