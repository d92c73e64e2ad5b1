"""The index in PostgreSQL + pgvector, shared by several replicas (needs the `postgres` extra).

The only package that imports psycopg; importing it without psycopg installed says which
extra to install.
"""

from embeddings.errors import MissingDependencyError

try:
    import psycopg  # noqa: F401
except ImportError as _error:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        f"the PostgreSQL backend needs psycopg ({_error}); pip install 'newsdesk[postgres]'"
    ) from None
