"""A picture of a real exchange with the bot, for the README: the real bot and model answer a
question and a follow-up over the loopback fake Bot API server, and the replies' HTML, exactly
as sent to Telegram, is drawn as a chat by headless Chromium on a page that styles Telegram's
HTML subset.

    python -m benchmarks.chat_picture OUT.png [--index-dir DIR] [--question TEXT ...]
        [--chromium PATH]

Without --index-dir the shipped data/ is indexed first (a few minutes with the real model); the
index is copied, never changed. Needs Chromium (Debian: apt-get install chromium). Prints the
exchange as plain text too.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import SHIPPED_DATA
from bot.settings import load_settings
from bot.telegram.app import build_application, started
from bot.telegram.botlog import BotLog
from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from tests.e2e.fake_telegram import BotMessage, FakeTelegram

QUESTIONS = (
    "What did Jake Sullivan say about how his talks with Wang Yi have changed "
    "from Vienna to Bangkok?",
    "And what did he say about export controls?",  # a follow-up: read with the first's speaker
)
WIDTH = 560  # CSS pixels: about a phone's chat column, drawn at twice the density

# Telegram's HTML subset (b, i, u, s, a, code, pre, blockquote, tg-spoiler) is valid HTML: the
# reply goes in as sent, with its line breaks kept.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #99ba92; font: 15px/1.35 -apple-system, "Segoe UI", Roboto,
  "Noto Sans", "DejaVu Sans", sans-serif; }}
.chat {{ width: {width}px; padding: 16px 12px; box-sizing: border-box; }}
.row {{ display: flex; margin: 6px 0; }}
.row.me {{ justify-content: flex-end; }}
.bubble {{ max-width: 88%; padding: 7px 10px 8px; border-radius: 14px; white-space: pre-wrap;
  overflow-wrap: anywhere; box-shadow: 0 1px 1px rgba(0,0,0,.15); }}
.me .bubble {{ background: #effdde; border-bottom-right-radius: 4px; }}
.bot .bubble {{ background: #fff; border-bottom-left-radius: 4px; }}
.name {{ color: #3a8ad6; font-weight: 600; font-size: 14px; }}
a {{ color: #2a7bc6; text-decoration: none; }}
code, pre {{ font-family: "DejaVu Sans Mono", monospace; font-size: 13px; }}
.keys {{ display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; max-width: 88%; }}
.key {{ flex: 1 1 0; text-align: center; background: rgba(60,90,50,.45); color: #fff;
  border-radius: 8px; padding: 7px 4px; font-size: 14px; font-weight: 500; }}
</style></head><body><div class="chat">
{rows}
</div>
<script>document.title = String(document.querySelector(".chat").scrollHeight);</script>
</body></html>
"""


ROWS = """<div class="row me"><div class="bubble">{question}</div></div>
<div class="row bot"><div><div class="bubble"><div class="name">newsdesk</div>{answer}</div>
{keys}</div></div>"""


async def exchange(index_dir: Path, work: Path, questions: Sequence[str]) -> list[BotMessage]:
    """The bot's replies to `questions`, asked one after the other in a private chat."""
    encoder = SentenceTransformerEncoder()
    async with FakeTelegram() as tg:
        settings = load_settings(
            data_dir=work / "data",
            index_dir=index_dir,
            telegram_token=tg.token,
            telegram_api_url=tg.url,
            state_db=work / "bot.sqlite",
        )
        engine = Engine(open_store(index_dir), encoder, settings.max_question_chars)
        engine.load()
        log = BotLog(settings.state_db)
        app = build_application(settings, engine, log)
        try:
            async with started(app, poll_timeout=1):
                user = tg.user(1, "Reader", username="reader")
                replies = []
                for question in questions:
                    mark = tg.mark()
                    tg.send_text(user, question)
                    replies.append(await tg.next_bot_message(user["id"], after=mark, timeout=120))
                return replies
        finally:
            log.close()


def page_html(exchanged: Sequence[tuple[str, BotMessage]]) -> str:
    return PAGE.format(width=WIDTH, rows="\n".join(_rows(q, reply) for q, reply in exchanged))


def _rows(question: str, reply: BotMessage) -> str:
    assert reply.html is not None, "the bot sends answers as HTML"
    rows = (reply.reply_markup or {}).get("inline_keyboard", [])
    keys = "".join(
        '<div class="keys">'
        + "".join(f'<div class="key">{html.escape(b["text"])}</div>' for b in row)
        + "</div>"
        for row in rows
    )
    return ROWS.format(question=html.escape(question), answer=reply.html, keys=keys)


def screenshot(chromium: str, page: Path, out: Path, profile: Path) -> None:
    """`page` drawn at its full height into `out`, by headless Chromium, offline."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    # First pass: the page's height, which its script writes into the title.
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    height = int(dom.split("<title>", 1)[1].split("</title>", 1)[0])
    subprocess.run(
        [
            chromium,
            *flags,
            "--force-device-scale-factor=2",
            f"--window-size={WIDTH},{height}",
            f"--screenshot={out.resolve()}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--index-dir", type=Path, help="an index of data/ to copy")
    parser.add_argument("--question", action="append", help="asked in turn (default: two)")
    parser.add_argument("--chromium", default="chromium")
    args = parser.parse_args(argv)
    chromium = shutil.which(args.chromium)
    if chromium is None:
        print(f"{args.chromium} not found: apt-get install chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(SHIPPED_DATA, work / "data")
        index_dir = work / "index"
        if args.index_dir:
            shutil.copytree(args.index_dir, index_dir)
        else:
            build_index([work / "data"], open_store(index_dir), SentenceTransformerEncoder())
        questions = args.question or QUESTIONS
        replies = asyncio.run(exchange(index_dir, work, questions))
        exchanged = list(zip(questions, replies, strict=True))
        page = work / "chat.html"
        page.write_text(page_html(exchanged), encoding="utf-8")
        screenshot(chromium, page, args.out, work / "chromium-profile")
    for question, reply in exchanged:
        buttons = "  ".join(f"[{b['text']}]" for b in reply.buttons)
        print(f"> {question}\n\n{reply.text}\n\n{buttons}\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
