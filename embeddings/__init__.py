"""newsdesk's search engine: articles → passages → vectors and BM25 → cited answers.

The public surface is what this module exports; everything else is an implementation detail.
This package never imports `bot`.
"""

from embeddings.engine import Engine, IndexStats
from embeddings.errors import (
    BuildStoppedError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexWriteError,
    MissingDependencyError,
    ModelUnavailableError,
    MultilingualPendingError,
    NewsdeskError,
    NothingIndexedError,
    ParseError,
    QuestionError,
)
from embeddings.index.backend import IndexStore
from embeddings.index.indexer import BuildProgress, BuildSummary
from embeddings.index.stores import Database, open_store
from embeddings.ingest.articles import SUPPORTED_SUFFIXES, Article, parse_file
from embeddings.models.encoder import DEFAULT_MODEL, Encoder
from embeddings.models.torch_encoder import SentenceTransformerEncoder
from embeddings.ranking.search import Answer, Result
from embeddings.ranking.timeline import Timeline, asks_for_timeline
from embeddings.ranking.topics import TopicMatch
from embeddings.text.when import TimeScope

__all__ = [
    "DEFAULT_MODEL",
    "SUPPORTED_SUFFIXES",
    "Answer",
    "Article",
    "BuildProgress",
    "BuildStoppedError",
    "BuildSummary",
    "Database",
    "Encoder",
    "Engine",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexIncompatibleError",
    "IndexMissingError",
    "IndexStats",
    "IndexStore",
    "IndexWriteError",
    "MissingDependencyError",
    "ModelUnavailableError",
    "MultilingualPendingError",
    "NewsdeskError",
    "NothingIndexedError",
    "ParseError",
    "QuestionError",
    "Result",
    "SentenceTransformerEncoder",
    "TimeScope",
    "Timeline",
    "TopicMatch",
    "asks_for_timeline",
    "open_store",
    "parse_file",
]
