"""Time in a search: a period filters by article date, "latest"/"the first time" prefer, a
timeline goes in date order, and `newsdesk ask --since/--until/--source`.

Two same-topic articles at different dates (plus an undated one) decide each case; the logic
runs with TinyEncoder (words only), the real pipeline with the real models on the same files.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.cli.commands import main
from embeddings import Article, Engine, TimeScope, open_store
from embeddings.models.tiny import TinyEncoder
from embeddings.ranking.evaluate import with_dates

_BRIDGE = (
    "The city council voted to close the old river bridge for repairs, the mayor said. "
    "Traffic will be sent over the north crossing while the work lasts."
)
_REPAIRS = "for repairs"
ARTICLES = [
    {"id": "bridge-2021", "title": "Council closes the river bridge", "date": "2021-03-10",
     "source": "City Gazette", "paragraphs": [_BRIDGE.replace(_REPAIRS, "for repairs in spring")]},
    {"id": "bridge-2023", "title": "Council closes the river bridge again", "date": "2023-03-14",
     "source": "River News", "paragraphs": [_BRIDGE.replace(_REPAIRS, "for repairs once more")]},
    {"id": "bridge-undated", "title": "Council closes the river bridge", "source": "City Gazette",
     "paragraphs": [_BRIDGE.replace(_REPAIRS, "for repairs, it was reported")]},
    {"id": "harbour-2022", "title": "Harbour ferry timetable", "date": "2022-06-01",
     "source": "River News", "paragraphs": ["The harbour ferry will sail every hour in summer."]},
]  # fmt: skip
QUESTION = "Why did the city council close the river bridge"


def _data(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(json.dumps(article) for article in ARTICLES)
    (folder / "bridge.jsonl").write_text(lines + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("time")
    engine = Engine(open_store(root / "index"), TinyEncoder())
    engine.build([_data(root / "data")])
    return engine


def test_a_period_in_a_question_to_an_undated_archive_is_part_of_the_question(
    tmp_path: Path,
) -> None:
    """Nothing dated to filter (an encyclopedia, a folder of undated texts): "in 1995" is what
    the question asks about, and the answer is found instead of nothing."""
    undated = [{k: v for k, v in a.items() if k != "date"} for a in ARTICLES]
    undated.append(
        {
            "id": "plant",
            "title": "The car plant",
            "paragraphs": [
                "A carmaker from Seoul bought the factory in 1995 and built small cars there."
            ],
        }
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "undated.jsonl").write_text(
        "".join(json.dumps(a) + "\n" for a in undated), encoding="utf-8"
    )
    engine = Engine(open_store(tmp_path / "index"), TinyEncoder())
    engine.build([tmp_path / "data"])
    answer = engine.search("Which carmaker bought the factory in 1995?")
    assert answer.results[0].article_id == "plant"
    assert answer.scope is None  # no "Articles from 1995" over undated ones


@pytest.mark.parametrize(("when", "article"), [("in 2021", "bridge-2021"),
                                               ("in March 2023", "bridge-2023")])  # fmt: skip
def test_a_period_in_the_question_picks_the_article_of_that_date(
    tiny_engine: Engine, when: str, article: str
) -> None:
    answer = tiny_engine.search(f"{QUESTION} {when}?", top=5)
    assert answer.results[0].article_id == article
    # Only articles dated inside the period: the other year and the undated copy are out.
    assert {r.article_id for r in answer.results} == {article}
    assert answer.scope is not None
    assert answer.scope.label in when


def test_without_time_every_copy_competes(tiny_engine: Engine) -> None:
    answer = tiny_engine.search(f"{QUESTION}?", top=5)
    assert answer.scope is None
    assert {"bridge-2021", "bridge-2023", "bridge-undated"} <= {
        r.article_id for r in answer.results
    }


@pytest.mark.parametrize(("when", "article"), [("What is the latest on", "bridge-2023"),
                                               ("For the first time,", "bridge-2021")])  # fmt: skip
def test_recency_words_prefer_the_newest_or_earliest_without_filtering(
    tiny_engine: Engine, when: str, article: str
) -> None:
    answer = tiny_engine.search(f"{when} why the city council closed the river bridge?", top=5)
    assert answer.results[0].article_id == article
    assert answer.scope is not None
    assert not answer.scope.filters
    assert len({r.article_id for r in answer.results}) > 1  # a preference, not a filter


def test_a_period_with_nothing_in_it_is_said_and_nearest_dates_offered(
    tiny_engine: Engine,
) -> None:
    answer = tiny_engine.search(f"{QUESTION} in 2024?", top=3)
    assert not answer.answered
    assert answer.results == []
    assert answer.nearest_dates[0] == "2023-03-14"


def test_a_given_period_and_source_filter_too(tiny_engine: Engine) -> None:
    since = TimeScope(since=dt.date(2022, 1, 1), label="since 2022")
    assert {r.article_id for r in tiny_engine.search(QUESTION, 5, since).results} == {
        "bridge-2023",
        "harbour-2022",
    }
    from_gazette = tiny_engine.search(QUESTION, 5, source="city gazette").results
    assert {r.article_id for r in from_gazette} == {"bridge-2021", "bridge-undated"}


def test_a_timeline_has_one_passage_per_article_in_date_order(tiny_engine: Engine) -> None:
    found = tiny_engine.timeline("What has the city council said about the river bridge?")
    dates = [r.date for r in found.entries]
    assert dates[:2] == ["2021-03-10", "2023-03-14"]
    assert len({r.article_id for r in found.entries}) == len(found.entries)
    assert dates[-1] is None  # the undated article cannot be placed: last


def test_cli_since_until_source_through_the_real_pipeline(
    tmp_path: Path, loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data, index = _data(tmp_path / "data"), tmp_path / "index"
    common = ["--index-dir", str(index), "--data-dir", str(data), "--json", "--top", "5"]

    def ask(*extra: str) -> dict[str, object]:
        assert main(["ask", f"{QUESTION}?", *common, *extra]) == 0
        return dict(json.loads(capsys.readouterr().out))

    def articles(answer: dict[str, object]) -> list[str]:
        results = answer["results"]
        assert isinstance(results, list)
        assert all("date" in r for r in results)
        return [str(r["article_id"]) for r in results]

    assert articles(ask("--until", "2022-12-31"))[0] == "bridge-2021"
    assert set(articles(ask("--since", "2023-01-01"))) == {"bridge-2023"}
    assert set(articles(ask("--source", "River News"))) <= {"bridge-2023", "harbour-2022"}
    answer = ask("--since", "2023-01-01", "--until", "2023-12-31")
    assert answer["period"] == "Articles from 2023"
    # The question's own period, through the real models.
    assert main(["ask", f"{QUESTION} in 2021?", *common]) == 0
    assert articles(json.loads(capsys.readouterr().out)) == ["bridge-2021"]


def test_cli_timeline_lists_dates_in_order(
    tmp_path: Path, loaded_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data, index = _data(tmp_path / "data"), tmp_path / "index"
    question = "What has the city council said about the river bridge over time?"
    assert main(["ask", question, "--index-dir", str(index), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Timeline: {question}")
    assert out.index("10 Mar 2021") < out.index("14 Mar 2023")


def test_an_evaluation_corpus_takes_its_dates_from_the_archive() -> None:
    corpus = [Article("a", "A", ("first a",)), Article("renamed", "B", ("first b",)),
              Article("c", "C", ("first c",))]  # fmt: skip
    archive = [
        Article("a", "A", ("first a",), date="2021-01-01"),
        Article("b-file", "B", ("first b", "more"), date="2022-02-02", source="S"),
    ]
    dated = with_dates(corpus, archive)
    assert [(a.date, a.source) for a in dated] == [
        ("2021-01-01", None), ("2022-02-02", "S"), (None, None)
    ]  # fmt: skip
