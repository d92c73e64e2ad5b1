"""Errors the engine raises; the CLI and the bot turn each into one short message."""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base class: the message is written for the person at the keyboard."""


class ParseError(NewsdeskError):
    """A file or record could not be read as an article."""


class IndexMissingError(NewsdeskError):
    """No index has been built in the index directory yet."""


class IndexIncompatibleError(NewsdeskError):
    """The index on disk was made by another model or format version, or is damaged."""


class IndexCorruptError(IndexIncompatibleError):
    """A file of the index is missing, truncated or changed since it was written."""


class IndexWriteError(NewsdeskError):
    """The index could not be written (disk full, no permission); the old one still serves."""


class IndexBusyError(NewsdeskError):
    """Another build holds the index lock."""


class NothingIndexedError(NewsdeskError):
    """A build found no article it could index."""


class ModelUnavailableError(NewsdeskError):
    """The embedding model cannot be found or loaded."""


class MissingDependencyError(NewsdeskError):
    """A library newsdesk needs is not installed."""


class QuestionError(NewsdeskError):
    """The question cannot be searched (empty, or too long)."""


class DatabaseError(NewsdeskError):
    """The index database cannot be reached or refused an operation (its password never
    appears in the message)."""


class BuildStoppedError(NewsdeskError):
    """A build was stopped (SIGTERM, shutdown) before it finished; the previous generation
    still serves."""


class MultilingualPendingError(QuestionError):
    """The question needs the multilingual vectors, which the index does not hold yet."""
