"""Building, updating and protecting the index, through the real model and real FAISS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings import (
    BuildProgress,
    Engine,
    IndexBusyError,
    IndexIncompatibleError,
    IndexMissingError,
    NothingIndexedError,
    SentenceTransformerEncoder,
)
from embeddings.index.directory.generations import IndexDirectory
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store

from .helpers import write

ARTICLES = {
    "harbour.txt": (
        "date 2024-04-02 2 April 2024\n\n"
        "The harbour authority of Port Elmsby reopened the northern pier after repairs to "
        "storm damage that had kept it closed for three months.\n\n"
        "Fishing crews said the reopening would let them land catches close to the market "
        "again.\n\n---\n\nFollow us @ElmsbyPost\n"
    ),
    "orchard.md": (
        "---\ntitle: Apple orchards report record harvest\ndate: '2024-09-15'\n"
        "source_url: https://example.org/orchards\n---\n\n"
        "Growers in the valley picked a record **forty thousand tonnes** of apples this "
        "season, helped by a [warm spring](https://example.org/spring).\n\n"
        "-   Cider makers expect prices to fall as supply grows.\n"
    ),
    "space.jsonl": json.dumps(
        {
            "id": "telescope-launch",
            "title": "New telescope reaches orbit",
            "date": "2024-06-01",
            "url": "https://example.org/telescope",
            "source": "Example Science",
            "paragraphs": [
                "The infrared telescope reached its final orbit a million miles from Earth "
                "after a month-long journey.",
                "Engineers will spend the summer cooling its mirrors before the first images.",
            ],
        }
    )
    + "\n",
    "chess.json": json.dumps(
        {
            "id": "chess-final",
            "title": "Teenager wins national chess final",
            "paragraphs": [
                "A sixteen-year-old from the coast won the national chess championship final "
                "after a tense endgame that lasted five hours."
            ],
        }
    ),
    "bridge.html": (
        "<html><head><meta property='og:title' content='Old bridge to be replaced'>"
        "<meta name='date' content='2024-02-11'></head><body><article>"
        "<p>The council voted to replace the hundred-year-old stone bridge over the river "
        "with a wider crossing for cyclists and pedestrians.</p></article></body></html>"
    ),
}

QUESTIONS = {
    "harbour.txt": "When did the northern pier reopen after the storm?",
    "orchard.md": "How many tonnes of apples did the valley growers pick?",
    "space.jsonl": "Where is the infrared telescope now?",
    "chess.json": "Who won the national chess championship?",
    "bridge.html": "What will replace the old stone bridge?",
}


def archive(folder: Path, names: list[str] | None = None) -> Path:
    for name in names or list(ARTICLES):
        write(folder, name, ARTICLES[name])
    return folder


def top_article(engine: Engine, question: str) -> str:
    return engine.search(question, top=1).results[0].article_id


def test_each_input_format_is_indexed_and_answers_its_question(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = archive(tmp_path / "data")
    summary = build_index([data], open_store(tmp_path / "index"), encoder)
    assert (summary.articles, summary.new, summary.problems) == (5, 5, [])
    engine = Engine(open_store(tmp_path / "index"), encoder)
    expected = {
        "harbour.txt": "harbour",
        "orchard.md": "orchard",
        "space.jsonl": "telescope-launch",
        "chess.json": "chess-final",
        "bridge.html": "bridge",
    }
    for name, question in QUESTIONS.items():
        assert top_article(engine, question) == expected[name], name
    result = engine.search(QUESTIONS["orchard.md"], top=1).results[0]
    assert (result.title, result.date, result.url) == (
        "Apple orchards report record harvest",
        "2024-09-15",
        "https://example.org/orchards",
    )
    assert "forty thousand tonnes" in result.answer_sentence
    assert engine.article("harbour") is not None
    assert engine.article("harbour").source == "@ElmsbyPost"  # type: ignore[union-attr]


def test_incremental_index_encodes_only_what_changed(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = archive(tmp_path / "data", ["harbour.txt", "orchard.md", "space.jsonl"])
    index = tmp_path / "index"
    first = build_index([data], open_store(index), encoder)
    engine = Engine(open_store(index), encoder)

    again = build_index([data], open_store(index), encoder)
    assert (again.new, again.changed, again.removed, again.unchanged) == (0, 0, 0, 3)
    # Nothing changed on disk: no file is read again and no generation written.
    assert (again.encoded, again.reused) == (0, 0)
    assert first.encoded > 0

    archive(data, ["chess.json"])  # add
    added = build_index([data], open_store(index), encoder)
    assert (added.new, added.changed, added.removed, added.unchanged) == (1, 0, 0, 3)
    assert 0 < added.encoded <= 4  # the chess article's passage and its sentence(s)
    assert top_article(engine, QUESTIONS["chess.json"]) == "chess-final"

    write(data, "harbour.txt", ARTICLES["harbour.txt"].replace("northern pier", "ferry ramp"))
    changed = build_index([data], open_store(index), encoder)
    assert (changed.new, changed.changed, changed.removed) == (0, 1, 0)
    answer = engine.search("When did the ferry ramp reopen?", top=1)
    assert "ferry ramp" in answer.results[0].text

    (data / "space.jsonl").unlink()  # delete
    removed = build_index([data], open_store(index), encoder)
    assert (removed.new, removed.changed, removed.removed, removed.articles) == (0, 0, 1, 3)
    found = engine.search(QUESTIONS["space.jsonl"], top=10).results
    assert all(r.article_id != "telescope-launch" for r in found)


def test_broken_files_are_reported_by_name_and_the_rest_indexed(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = archive(tmp_path / "data", ["chess.json"])
    write(data, "broken.json", "{oops")
    write(data, "empty.md", "---\ntitle: Nothing here\n---\n")
    summary = build_index([data], open_store(tmp_path / "index"), encoder)
    assert summary.articles == 1
    assert summary.problems == [
        f"{data / 'broken.json'}: invalid JSON (Expecting property name enclosed in double "
        "quotes, line 1)",
        f"{data / 'empty.md'}: no paragraphs of text",
    ]


def test_nothing_indexable_is_an_error_and_leaves_no_index(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write(data, "broken.json", "{oops")
    with pytest.raises(NothingIndexedError, match=r"broken\.json"):
        build_index([data], open_store(tmp_path / "index"), encoder)
    with pytest.raises(IndexMissingError, match="newsdesk index"):
        Engine(open_store(tmp_path / "index"), encoder).search("anything")


def test_a_crash_between_writing_and_switching_leaves_the_old_index_serving(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = archive(tmp_path / "data", ["chess.json"])
    index = tmp_path / "index"
    build_index([data], open_store(index), encoder)
    engine = Engine(open_store(index), encoder)
    before = IndexDirectory(index).current()

    def crash_at_switch(step: BuildProgress) -> None:
        if step.stage == "switching":
            raise KeyboardInterrupt  # what a killed process does: stop right there

    archive(data, ["bridge.html"])
    with pytest.raises(KeyboardInterrupt):
        build_index([data], open_store(index), encoder, crash_at_switch)
    # The new generation was written completely, but CURRENT still names the old one.
    generations = sorted((index / "generations").iterdir())
    assert len(generations) == 2
    assert all((g / "manifest.json").exists() for g in generations)
    assert IndexDirectory(index).current() == before
    assert Engine(open_store(index), encoder).stats().manifest.articles == 1
    assert top_article(engine, QUESTIONS["chess.json"]) == "chess-final"

    build_index(
        [data], open_store(index), encoder
    )  # the next build succeeds and clears the leftover
    assert Engine(open_store(index), encoder).stats().manifest.articles == 2
    assert len(list((index / "generations").iterdir())) == 2  # current + previous


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda g: (g / "base/passages.faiss").write_bytes(b"garbage" * 10), "passages.faiss"),
        (lambda g: (g / "manifest.json").write_text("{not json"), "manifest"),
        (lambda g: (g / "manifest.json").write_text(json.dumps({"format_version": 99})),
         "format 99"),
        (lambda g: (g / "base/passages.sqlite").write_bytes(b"not a database" * 100),
         "passages.sqlite"),
        (lambda g: shutil.rmtree(g / "base/bm25"), r"bm25/\S+ is missing"),
    ],
)  # fmt: skip
def test_a_damaged_index_gives_a_clear_error_telling_to_reindex(
    encoder: SentenceTransformerEncoder, tmp_path: Path, damage: object, message: str
) -> None:
    data = archive(tmp_path / "data", ["chess.json"])
    index = tmp_path / "index"
    build_index([data], open_store(index), encoder)
    generation = IndexDirectory(index).current()
    assert generation is not None
    damage(generation)  # type: ignore[operator]
    with pytest.raises(IndexIncompatibleError, match=message) as error:
        Engine(open_store(index), encoder).search("Who won?")
    assert "newsdesk index" in str(error.value)
    rebuilt = build_index([data], open_store(index), encoder)  # and a rebuild repairs it
    assert rebuilt.articles == 1
    assert (
        top_article(Engine(open_store(index), encoder), "Who won the chess final?") == "chess-final"
    )


class OtherModel:
    """A stand-in for a different embedding model (only its identity matters here)."""

    name = "some/other-model"
    dimension = 8
    max_tokens = 128

    def encode(self, texts: list[str], progress: object = None) -> np.ndarray:
        return np.zeros((len(texts), self.dimension), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_an_index_built_by_another_model_is_refused_with_both_names(
    encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    data = archive(tmp_path / "data", ["chess.json"])
    build_index([data], open_store(tmp_path / "index"), encoder)
    with pytest.raises(IndexIncompatibleError) as error:
        Engine(open_store(tmp_path / "index"), OtherModel()).search("Who won?")
    text = str(error.value)
    assert "all-MiniLM-L6-v2" in text
    assert "some/other-model" in text
    assert "Rebuild" in text


def test_only_one_build_at_a_time(encoder: SentenceTransformerEncoder, tmp_path: Path) -> None:
    data = archive(tmp_path / "data", ["chess.json"])
    with IndexDirectory(tmp_path / "index").build_lock(), pytest.raises(IndexBusyError):
        build_index([data], open_store(tmp_path / "index"), encoder)
