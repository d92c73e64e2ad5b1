"""The `newsdesk` command line: index, ask, eval, fetch, stats, serve.

Engine errors become one line on stderr and a non-zero exit; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.cli.progressbar import ProgressBar
from bot.cli.render import json_answer, json_timeline, terminal_answer, terminal_timeline
from bot.indexinfo import index_info
from bot.redact import Redactor
from bot.settings import (
    Settings,
    feed_poller,
    index_store,
    load_settings,
    make_engine,
    secrets_of,
)
from bot.text import human_date, poll_text
from embeddings import (
    BuildSummary,
    IndexMissingError,
    NewsdeskError,
    TimeScope,
    asks_for_timeline,
)
from embeddings.feeds.poller import feed_list, refresh
from embeddings.index.stopping import Stop
from embeddings.ingest.articles import Article, discover, parse_file
from embeddings.text.questions import check_question
from embeddings.text.when import period_label


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse would show the top-level usage; the subcommand's says more
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Secrets come with the settings; until they are read there is none to hide.
    redactor = Redactor([])
    try:
        settings = load_settings(
            index_dir=args.index_dir,
            data_dir=getattr(args, "data_dir", None),
            model=args.model,
            encoder=args.encoder,
            device=args.device,
        )
        redactor = Redactor(secrets_of(settings))
        result: int = args.handler(args, settings)
        return result
    except NewsdeskError as error:
        print(f"error: {redactor.text(str(error))}", file=sys.stderr)
        if args.debug:
            redactor.exception(error)
            raise
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        # python-telegram-bot names the token in some of its errors ("The token `…` was
        # rejected"), and network errors quote request URLs.
        redactor.exception(error)
        if args.debug:
            raise
        print(
            f"error: unexpected {type(error).__name__}: {redactor.text(str(error))} "
            "(run with --debug for details)",
            file=sys.stderr,
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index directory (NEWSDESK_INDEX_DIR)")
    common.add_argument("--model", help="embedding model name or folder (NEWSDESK_MODEL)")
    common.add_argument(
        "--encoder",
        choices=["torch", "onnx", "onnx-int8"],
        help="how the models run: onnx-int8 (default), onnx or torch (NEWSDESK_ENCODER)",
    )
    common.add_argument("--device", help="torch device, e.g. cuda (NEWSDESK_DEVICE; default cpu)")
    common.add_argument("--debug", action="store_true", help="log verbosely, show tracebacks")
    parser = argparse.ArgumentParser(
        prog="newsdesk", description="Ask a news archive questions; get cited passages."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    index = commands.add_parser("index", parents=[common], help="build or update the index")
    index.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="default: data dir")
    index.add_argument(
        "--migrate",
        action="store_true",
        help="PostgreSQL: drop an index of another schema version first, then build",
    )
    index.set_defaults(handler=_index)

    ask = commands.add_parser("ask", parents=[common], help="ask the archive a question")
    ask.add_argument("question")
    ask.add_argument("--top", type=_positive, default=3, help="results to show (default 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--data-dir", type=Path, help="articles to index on first use")
    ask.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="articles from this date")
    ask.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="articles up to this date")
    ask.add_argument("--source", help="articles from this source only (e.g. Wikinews)")
    ask.add_argument(
        "--timeline",
        action="store_true",
        help="one passage per article, oldest first (automatic for 'what has X said about Y')",
    )
    ask.set_defaults(handler=_ask)

    evaluate = commands.add_parser(
        "eval", parents=[common], help="measure retrieval on a BEIR folder"
    )
    evaluate.add_argument("beir_dir", type=Path, metavar="BEIR_DIR")
    evaluate.add_argument("--limit", type=_positive, help="a fixed, seeded sample of N queries")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--keep-index",
        type=Path,
        metavar="DIR",
        help="build the corpus's index here and reuse it next time (default: a temporary one)",
    )
    evaluate.add_argument(
        "--dates-from",
        type=Path,
        nargs="+",
        default=[],
        metavar="PATH",
        help="article files the corpus was cut from: its articles get their dates",
    )
    evaluate.set_defaults(handler=_eval)

    fetch = commands.add_parser(
        "fetch", parents=[common], help="poll the news feeds once and index what is new"
    )
    fetch.add_argument("--data-dir", type=Path, help="articles folder (NEWSDESK_DATA_DIR)")
    fetch.set_defaults(handler=_fetch)

    stats = commands.add_parser("stats", parents=[common], help="what the index holds")
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(handler=_stats)

    serve = commands.add_parser("serve", parents=[common], help="run the Telegram bot")
    serve.add_argument("--webhook", metavar="URL", help="receive updates at this public URL")
    serve.add_argument("--data-dir", type=Path, help="articles folder (NEWSDESK_DATA_DIR)")
    serve.set_defaults(handler=_serve)
    for command in (index, ask, evaluate, fetch, stats, serve):
        command.set_defaults(command_parser=command)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("newsdesk")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout without installing
        return "(not installed)"


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("a date like 2024-03-31") from None


def _print_summary(summary: BuildSummary, out: Callable[[str], None]) -> None:
    for problem in summary.problems:
        out(f"skipped {problem}")
    out(
        f"Indexed {summary.articles:,} articles, {summary.passages:,} passages "
        f"({summary.new:,} new, {summary.changed:,} changed, {summary.removed:,} removed, "
        f"{summary.unchanged:,} unchanged; {summary.encoded:,} texts encoded, "
        f"{summary.reused:,} reused) in {summary.seconds:.1f} s"
    )


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


# --------------------------------------------------------------------------- commands


def _index(args: argparse.Namespace, settings: Settings) -> int:
    paths = args.paths or [settings.data_dir]
    # SIGTERM stops the build at its next batch (BuildStoppedError: one line, exit 1), the
    # previous generation serving on; set before the model loads, honoured once it runs.
    stop = Stop()
    signal.signal(signal.SIGTERM, lambda *_: stop.set("SIGTERM"))
    engine = make_engine(settings)
    engine.stop = stop
    if args.migrate and not engine.store.migrate():
        raise NewsdeskError("--migrate is for NEWSDESK_BACKEND=postgres")
    summary = engine.build(paths, ProgressBar())
    _print_summary(summary, print)
    if summary.compaction_due and not engine.backfill_due():  # the backfill compacts too
        _stderr("Compacting the index (nothing is re-encoded; questions are answered meanwhile).")
        print(f"Compacted in {engine.compact(paths, ProgressBar()).seconds:.1f} s.")
    if engine.backfill_due():  # the update already answers in English
        _stderr("Adding the multilingual vectors (English questions are answered meanwhile).")
        engine.prepare_backfill(paths, ProgressBar())
        print(f"Added them in {engine.finish_backfill(paths, ProgressBar()).seconds:.1f} s.")
    return 0


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    check_question(args.question, settings.max_question_chars)  # before the models load
    engine = make_engine(settings)
    if not engine.has_index():
        # Both models, so that the bot and later commands never need a second, longer build.
        _stderr(f"No index yet: building one from {settings.data_dir} (only this once).")
        _print_summary(engine.build([settings.data_dir], ProgressBar()), _stderr)
    scope = None
    if args.since or args.until:
        scope = TimeScope(args.since, args.until, label=period_label(args.since, args.until))
    if args.timeline or asks_for_timeline(args.question):
        found = engine.timeline(args.question, scope, args.source)
        as_json = json.dumps(json_timeline(found), ensure_ascii=False, indent=2)
        print(as_json if args.json else terminal_timeline(found), end="\n" if args.json else "")
        return 0
    answer = engine.search(args.question, args.top, scope, args.source)
    if args.json:
        print(json.dumps(json_answer(answer), ensure_ascii=False, indent=2))
    else:
        bold = sys.stdout.isatty()
        mark: Callable[[str], str] = (
            (lambda s: f"\033[1m{s}\033[0m") if bold else (lambda s: f"**{s}**")
        )
        print(terminal_answer(answer, mark), end="")
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from embeddings.ranking.evaluate import evaluate

    engine = make_engine(settings)
    bar: tqdm[Any] | None = None

    def on_query(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="Questions", unit="q", file=sys.stderr)
        bar.update(done - bar.n)

    # With PostgreSQL the corpus goes into its own schema beside the served index; with
    # files, into --keep-index, or else a temporary directory.
    keep = None
    if settings.backend != "faiss" or args.keep_index is not None:
        keep = index_store(settings, f"{settings.database_schema}_eval", args.keep_index)
    result = evaluate(
        args.beir_dir,
        engine.encoder,
        args.limit,
        ProgressBar(),
        on_query,
        engine.multilingual,
        keep,
        _articles_in(args.dates_from),
    )
    if bar is not None:
        bar.close()
    if args.json:
        print(json.dumps(result))
        return 0
    kinds = result.get("kinds")
    columns: dict[str, Mapping[str, object]] = {"all": result}
    if isinstance(kinds, dict):
        columns.update(kinds)
    print(f"{'metric':<14}" + "".join(f"{name:>12}" for name in columns))
    for key in result:
        if key == "kinds":
            continue
        cells = [column.get(key) for column in columns.values()]
        print(f"{key:<14}" + "".join(f"{_shown(key, cell):>12}" for cell in cells))
    return 0


def _articles_in(paths: Sequence[Path]) -> list[Article]:
    found, problems = discover(paths)
    if problems:
        raise NewsdeskError("; ".join(problems))
    return [article for _, path in found for article in parse_file(path).articles]


def _shown(key: str, value: object) -> str:
    if not isinstance(value, (int, float)):
        return ""
    return f"{value:,.0f}" if key == "queries" else f"{value:.4g}"


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    feeds = feed_list(settings.data_dir, settings.feeds)
    if not feeds:
        raise NewsdeskError(
            f"no feeds to fetch: set NEWSDESK_FEEDS or list them in {settings.data_dir}/feeds.txt"
        )
    # An operator asking for a pass means now: feeds in backoff are tried too.
    report, summary = refresh(make_engine(settings), feed_poller(settings), feeds, False)
    print(poll_text(report, summary))
    return 1 if len(report.failed) == len(feeds) else 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings)
    if not engine.has_index():
        raise IndexMissingError(
            f"no index yet ({engine.store.describe()}): run `newsdesk index` to build one"
        )
    if args.json:
        print(json.dumps(index_info(settings, engine), ensure_ascii=False, indent=2))
        return 0
    stats = engine.stats()
    m = stats.manifest
    where = engine.store.describe().removeprefix("the index in ")
    print(f"index       {where} (generation {stats.generation})")
    print(f"built       {m.created} from {', '.join(m.sources) or '(articles)'}")
    print(f"model       {m.model} ({m.dimension} dimensions)")
    print(f"languages   {m.multilingual or 'English only: no multilingual vectors'}")
    print(f"holds       {m.articles:,} articles, {m.count:,} passages, {m.sentences:,} sentences")
    print(f"dates       {human_date(stats.first_date)} to {human_date(stats.last_date)}")
    print(f"newest      {stats.newest_title}")
    print(f"on disk     {stats.disk_bytes / 1e6:.1f} MB")
    for source, count in stats.by_source.items():
        print(f"  {count:>6,}  {source}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.telegram.app import run

    run(settings, webhook_url=args.webhook, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
