"""The `newsdesk` command line, in-process and as the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import embeddings.index.indexer
from bot.cli.commands import main
from embeddings.index.directory.generations import IndexDirectory

from .feedsite import Site
from .helpers import REPO, WANG_YI_QUESTION, WANG_YI_UN, write

EVAL_KEYS = {"hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "declined", "queries", "ms_per_query"}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed `newsdesk` script, as a user runs it (bounded by a timeout)."""
    script = Path(sys.executable).parent / "newsdesk"
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_ask_json_answers_wang_yi_first(shipped_copy: tuple[Path, Path]) -> None:
    _, index_dir = shipped_copy
    done = run_cli("ask", WANG_YI_QUESTION, "--json", env={"NEWSDESK_INDEX_DIR": str(index_dir)})
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {
        "question", "answered", "period", "nearest_dates", "results", "confidence",
        "short_answer", "uncertain", "articles",
    }  # fmt: skip
    assert answer["answered"] is True
    assert answer["question"] == WANG_YI_QUESTION
    top = answer["results"][0]
    assert set(top) == {  # fields are only ever added
        "article_id", "title", "date", "url", "text", "asked", "answer_sentence", "score", "source"
    }  # fmt: skip
    assert answer["short_answer"] == WANG_YI_UN
    assert answer["articles"][0]["results"] == [0]
    assert top["answer_sentence"] == WANG_YI_UN
    assert top["date"] == "2023-02-22"


def test_ask_text_marks_the_answer_sentence(
    shipped_copy: tuple[Path, Path], loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, index_dir = shipped_copy
    assert main(["ask", WANG_YI_QUESTION, "--top", "1", "--index-dir", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert f"**{WANG_YI_UN}**" in out
    assert out.startswith(f"Answer: **{WANG_YI_UN}**\n— @AzerNewsAz · 22 Feb 2023\n\n")
    assert "\n1. The People’s Republic of China" in out
    assert "22 Feb 2023 · @AzerNewsAz" in out


def test_first_ask_builds_the_index_from_the_data_dir(
    tmp_path: Path, loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "news", "a.txt", "title Bakery opens\n\nA new bakery opened on the square "
          "selling bread and cakes to the town.\n")  # fmt: skip
    code = main(["ask", "What does the new bakery sell?", "--data-dir", str(tmp_path / "news"),
                 "--index-dir", str(tmp_path / "idx")])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    assert "No index yet: building one" in captured.err
    assert "Indexed 1 articles" in captured.err
    assert "bread and cakes" in captured.out


def test_index_reports_broken_files_and_fails_only_when_nothing_indexed(
    tmp_path: Path, loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "news"
    write(folder, "bad.json", "{oops")
    assert main(["index", str(folder), "--index-dir", str(tmp_path / "idx")]) == 1
    assert "error: no article could be indexed" in capsys.readouterr().err
    write(folder, "good.txt", "title Good\n\nA perfectly readable article about rivers.\n")
    assert main(["index", str(folder), "--index-dir", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out
    assert f"skipped {folder / 'bad.json'}: invalid JSON" in out
    assert "Indexed 1 articles, 1 passages (1 new, 0 changed, 0 removed" in out


def test_index_compacts_right_after_an_update_past_the_delta_limit(
    tmp_path: Path,
    loaded_models: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, index = tmp_path / "news", tmp_path / "idx"
    write(folder, "a.txt", "title Rivers\n\nA readable article about rivers and their floods.\n")
    assert main(["index", str(folder), "--index-dir", str(index)]) == 0
    monkeypatch.setattr(embeddings.index.indexer, "DELTA_LIMIT", 0)
    write(folder, "b.txt", "title Bridges\n\nThe old stone bridge reopened to cyclists.\n")
    capsys.readouterr()
    assert main(["index", str(folder), "--index-dir", str(index)]) == 0
    captured = capsys.readouterr()
    assert "1 new" in captured.out
    assert "Compacting the index" in captured.err
    assert "Compacted in" in captured.out
    generation = IndexDirectory(index).current()
    assert generation is not None
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["segments"] == {"base": [2, manifest["sentences"]], "delta": [0, 0]}


def test_stats_describes_the_index(
    shipped_copy: tuple[Path, Path], loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, index_dir = shipped_copy
    assert main(["stats", "--index-dir", str(index_dir)]) == 0
    out = capsys.readouterr().out
    assert "281 articles" in out
    assert "sentence-transformers/all-MiniLM-L6-v2" in out
    assert "237  The White House Briefing Room" in out
    assert main(["stats", "--json", "--index-dir", str(index_dir)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["backend"], info["articles"]) == ("faiss", 281)
    english, other = info["models"]
    assert english["model"].endswith("all-MiniLM-L6-v2")
    assert english["vectors"] is True
    assert other["role"] == "multilingual"
    assert isinstance(other["vectors"], bool)


def test_version_and_a_bad_flag_shows_the_subcommands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    assert capsys.readouterr().out.startswith("newsdesk 0.")
    with pytest.raises(SystemExit) as bad:
        main(["ask", "--frobnicate", "what?"])
    assert bad.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: newsdesk ask ")
    assert "unrecognized arguments: --frobnicate" in err


def test_eval_prints_exactly_the_agreed_keys(
    tmp_path: Path, loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    beir = tmp_path / "beir"
    corpus = [
        {"_id": "d1", "title": "Rivers", "text": "The river flooded the valley in spring."},
        {"_id": "d2", "title": "Bakery", "text": "The bakery sells bread and cakes daily."},
        {"_id": "d3", "title": "Chess", "text": "She won the chess final in five hours."},
    ]
    queries = [{"_id": "q1", "text": "When did the river flood?"},
               {"_id": "q2", "text": "What does the bakery sell?"}]  # fmt: skip
    write(beir, "corpus.jsonl", "\n".join(json.dumps(c) for c in corpus))
    write(beir, "queries.jsonl", "\n".join(json.dumps(q) for q in queries))
    write(beir, "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    assert main(["eval", str(beir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == EVAL_KEYS
    assert result["queries"] == 2
    assert result["hit@1"] == 1.0


@pytest.mark.model  # the script loads the models before it reads the index
def test_errors_are_one_line_without_traceback_unless_debug(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    (index / "generations" / "g").mkdir(parents=True)
    (index / "generations" / "g" / "manifest.json").write_text("{}")
    (index / "CURRENT").write_text("g\n")
    done = run_cli("ask", "anything", "--index-dir", str(index))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: cannot use the index")
    assert "newsdesk index" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    debug = run_cli("ask", "anything", "--index-dir", str(index), "--debug")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr


def test_serve_without_a_token_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: NEWSDESK_TELEGRAM_TOKEN is not set: create a bot with @BotFather and put its "
        "token in the environment or in .env"
    )


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    test_command = next(line for line in ci.splitlines() if "pytest" in line).strip()
    assert test_command in readme


def test_fetch_polls_once_and_indexes_then_finds_nothing_new(
    site: Site,
    tmp_path: Path,
    loaded_models: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("NEWSDESK_FEED_STATE_DB", str(tmp_path / "feeds.sqlite"))
    assert main(["fetch"]) == 1  # no feeds configured
    monkeypatch.setenv("NEWSDESK_FEEDS", f"{site.base}/rss.xml")
    monkeypatch.setenv("NEWSDESK_FEED_ALLOW_PRIVATE", "true")  # the site is on 127.0.0.1
    capsys.readouterr()
    assert main(["fetch"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("Polled 1 feed(s): 4 new, 0 changed")
    assert "Indexed 4 new and 0 changed article(s)" in first
    assert main(["fetch"]) == 0
    assert capsys.readouterr().out.strip() == (
        "Polled 1 feed(s): 0 new, 0 changed, 0 unchanged, 0 already saved under another address."
    )
