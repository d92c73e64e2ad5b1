"""Strangers and odd clients through the real bot: hostile text, odd entities, uploads meant
to hurt, admin commands from the wrong place, forged callback data, and the token kept out of
everything. The fake server refuses invalid HTML and messages over 4,096 characters, so a
reply that breaks either would show up here as a failed send and an apology."""

from __future__ import annotations

import io
import json
import logging
import random
import zipfile
from typing import Any

import pytest

from ..helpers import WANG_YI_QUESTION, WANG_YI_UN
from .conftest import ADMIN_ID, BotFactory
from .fake_telegram import BotMessage, FakeTelegram
from .test_bot import ask, press, upload

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

APOLOGY = "Sorry — something went wrong on my side"
ODD = ["\u200f", "\u202e", "\u200d", "\u2066", "\ufeff", "\x07", "\x1b[31m", "\r\n", "👩‍👩‍👧‍👦",
       "🇺🇦", "&amp;", "<b>", "</i>", "<a href='javascript:x'>", "&#0;", "\U0001d400", "@", "/",
       "ا", "ש", "\u0301", "…", "?!", "💥"]  # fmt: skip


def hostile_messages(count: int) -> list[str]:
    """Curated nasties plus a seeded random mix of odd pieces (the same on every run)."""
    fixed = [
        "😀😃😄😁", "?!?!...,,;;", "\u200b", "\u202eWhat did Wang Yi say about the UN?",
        "What\u200ddid\u200dWang\u200dYi\u200dsay?", "<script>alert(1)</script> Wang Yi UN",
        "x" * 100_000, "Wang Yi " * 600, "&lt;b&gt;UN&lt;/b&gt; &amp;", "\x00\x01\x02 UN",
    ]  # fmt: skip
    rng = random.Random(6)
    pieces = [*ODD, "Wang Yi", " UN ", "say"]
    mixed = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
             for _ in range(count - len(fixed))]  # fmt: skip
    return [m for m in fixed + mixed if m.strip(" \r\n")]


def assert_clean(tg: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    """Every send succeeded, nothing failed, and the token never reached a log."""
    sends = tg.calls_to("sendMessage") + tg.calls_to("editMessageText")
    assert all(c.status == 200 for c in sends), [(c.status, c.description) for c in sends]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert tg.token not in caplog.text
    assert tg.token.split(":")[1] not in caplog.text


async def test_hostile_text_gets_one_valid_reply_each_and_breaks_nothing(
    tg: FakeTelegram, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    messages = hostile_messages(30)
    users = [tg.user(20_000 + i, f"U{i}") for i in range(len(messages))]
    async with start_bot():
        for user, text in zip(users, messages, strict=True):
            tg.send_text(user, text)
        await tg.wait_for(lambda: all(tg.messages(u["id"]) for u in users), timeout=120)
        replies = [tg.messages(u["id"]) for u in users]
        assert all(len(r) == 1 for r in replies), [len(r) for r in replies]
        assert not [r[0].text for r in replies if r[0].text.startswith(APOLOGY)]
        assert all(len(r[0].text) <= 4096 for r in replies)
        long_reply = replies[messages.index("x" * 100_000)][0].text
        assert "100,000 characters long" in long_reply
        # The Wang Yi question wrapped in an RTL override still finds its answer.
        assert replies[3][0].formatted("bold")[0] == WANG_YI_UN
    assert_clean(tg, caplog)


@pytest.mark.parametrize(
    "entities",
    [
        [{"type": "mention", "offset": 3, "length": 18}],  # splits a surrogate pair
        [{"type": "mention", "offset": 500, "length": 40}],  # past the end
        [{"type": "mention", "offset": 0, "length": 0}],
        [{"type": "bold", "offset": 0, "length": 90},
         {"type": "mention", "offset": 2, "length": 30}],
    ],
)  # fmt: skip
async def test_group_messages_with_odd_entity_offsets_do_not_crash_the_bot(
    tg: FakeTelegram,
    start_bot: BotFactory,
    caplog: pytest.LogCaptureFixture,
    entities: list[dict[str, Any]],
) -> None:
    alice = tg.user(1, "Alice")
    group = tg.group_chat(-100, "Newsroom")
    text = f"👩‍👩‍👧‍👦 @{tg.bot_username} {WANG_YI_QUESTION}"
    async with start_bot():
        tg.send_text(alice, text, chat=group, entities=entities)
        tg.send_text(alice, f"/ask {WANG_YI_QUESTION}", chat=group)  # the bot is still alive
        await tg.wait_for(
            lambda: any(m.formatted("bold") for m in tg.messages(group["id"])), timeout=60
        )
        await tg.wait_for(lambda: not tg.pending_updates, timeout=30)
        assert not [m for m in tg.messages(group["id"]) if m.text.startswith(APOLOGY)]
    assert_clean(tg, caplog)


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("news.txt", b"0" * 20_000_000)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "binary file"),
        ("latin.txt", "title Café\n\nDéjà vu in the newsroom.".encode("latin-1"), "not UTF-8"),
        ("bomb.txt", zip_bomb(), "not"),  # never unpacked: just bytes that are not text
        ("sneaky.jsonl", b'{"id": "s", "title": "\\ud800", "paragraphs": ["x y z"]}\n',
         "lone surrogate"),
        ("..", b"title X\n\nText.", "is not a file type newsdesk reads"),
    ],
)  # fmt: skip
async def test_hostile_uploads_are_rejected_with_a_reason_and_change_nothing(
    tg: FakeTelegram,
    start_bot: BotFactory,
    caplog: pytest.LogCaptureFixture,
    name: str,
    content: bytes,
    reason: str,
) -> None:
    admin = tg.user(ADMIN_ID, "Admin")
    async with start_bot() as bot:
        files = sorted(p.name for p in bot.data_dir.iterdir())
        generation = bot.engine.stats().generation
        done = await upload(tg, admin, name, content)
        assert done.text.startswith("Rejected"), done.text
        assert reason in done.text, done.text
        assert sorted(p.name for p in bot.data_dir.iterdir()) == files
        assert bot.engine.stats().generation == generation
    assert_clean(tg, caplog)


async def test_a_huge_upload_is_refused_before_it_is_downloaded(
    tg: FakeTelegram, start_bot: BotFactory
) -> None:
    admin = tg.user(ADMIN_ID, "Admin")
    line = json.dumps({"id": "x", "title": "T", "paragraphs": ["word " * 200]}) + "\n"
    huge = line.encode() * (100_000_000 // len(line) + 1)  # a 100 MB JSON Lines file
    async with start_bot() as bot:
        files = sorted(p.name for p in bot.data_dir.iterdir())
        mark = tg.mark()
        tg.send_document(admin, "archive.jsonl", huge)
        reply = await tg.next_bot_message(admin["id"], after=mark, timeout=60)
        assert reply.text == "Rejected archive.jsonl: it is 100.0 MB and the limit is 5.0 MB."
        assert not tg.calls_to("getFile")
        assert sorted(p.name for p in bot.data_dir.iterdir()) == files


ARTICLE = {
    "id": "ferry-strike",
    "title": "Ferry crews strike over pay",
    "paragraphs": ["Ferry crews on the island routes walked out over pay on Thursday."],
}


async def test_a_traversal_name_lands_inside_the_data_folder_and_duplicates_are_handled(
    tg: FakeTelegram, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    admin = tg.user(ADMIN_ID, "Admin")
    async with start_bot() as bot:
        outside = bot.data_dir.parent
        before = sorted(p.name for p in outside.iterdir())
        done = await upload(tg, admin, "../../etc/ferry.jsonl", json.dumps(ARTICLE).encode())
        assert done.text.startswith("Added ferry.jsonl: 1 article(s)."), done.text
        assert (bot.data_dir / "ferry.jsonl").is_file()
        assert sorted(p.name for p in outside.iterdir()) == before  # nothing written beside
        # The same name again replaces the file (an update), not a second copy.
        changed = {**ARTICLE, "title": "Ferry crews end their strike"}
        again = await upload(tg, admin, "ferry.jsonl", json.dumps(changed).encode())
        assert "1 changed" in again.text, again.text
        # Another file claiming the same article id is refused.
        clash = await upload(tg, admin, "copy.jsonl", json.dumps(ARTICLE).encode())
        assert "already used by" in clash.text
        assert not (bot.data_dir / "copy.jsonl").exists()
        assert bot.engine.article("ferry-strike").title == "Ferry crews end their strike"  # type: ignore[union-attr]
    assert_clean(tg, caplog)


async def test_admin_commands_only_from_the_admin_in_person_in_private(
    tg: FakeTelegram, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    admin, mallory = tg.user(ADMIN_ID, "Admin"), tg.user(666, "Mallory")
    group = tg.group_chat(-200, "Desk")
    async with start_bot() as bot:
        generation = bot.engine.stats().generation
        in_group = await ask(tg, admin, "/stats", chat=group)
        assert in_group.text == "Admin commands work only in a private chat with me."
        mark = tg.mark()
        tg.send_forwarded(admin, "/reindex", origin=mallory)
        forwarded = await tg.next_bot_message(admin["id"], after=mark)
        assert forwarded.text == "I don't run forwarded admin commands; send it yourself."
        mark = tg.mark()
        tg.send_forwarded(mallory, "/reindex", origin=admin)
        impostor = await tg.next_bot_message(mallory["id"], after=mark)
        assert impostor.text == "Sorry, admins only."
        assert bot.engine.stats().generation == generation  # no reindex ran
        assert "Questions:" not in " ".join(m.text for m in tg.messages(group["id"]))
    assert_clean(tg, caplog)


async def test_forged_callback_data_does_nothing(
    tg: FakeTelegram, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    alice = tg.user(1, "Alice")
    async with start_bot() as bot:
        reply = await ask(tg, alice, WANG_YI_QUESTION)
        token = reply.button_data("👍").split(":")[1]
        forged = [f"v:{token}:1000", f"v:{token}:", f"m:{token}:-3", f"m:{token}:1e9",
                  f"m:{token}:99999", f"f:{token}:1000", f"p:{token}:0:-1", f"p:{token}:0",
                  "f:no-such-token", "x:y:z", ":::", "v", "m:" + "9" * 60]  # fmt: skip
        sent_before = len(tg.messages(alice["id"]))
        queries = [tg.press_forged_button(alice, reply, data) for data in forged]
        await tg.wait_for(lambda: all(q in tg.callback_answers for q in queries), timeout=60)
        answers = {
            data: tg.callback_answers[q].text for data, q in zip(forged, queries, strict=True)
        }
        assert {a for d, a in answers.items() if d != "f:no-such-token"} == {
            "I don't know that button."
        }
        assert answers["f:no-such-token"].startswith("This answer has expired")
        assert len(tg.messages(alice["id"])) == sent_before  # no page, no article was sent
        assert bot.log.usage().thumbs_down == bot.log.usage().thumbs_up == 0  # no vote counted
        ok: BotMessage = await press(tg, alice, reply, "More")  # a real button still works
        assert ok.formatted("bold")  # passages with their answering sentences
    assert_clean(tg, caplog)
