"""The index in PostgreSQL + pgvector, shared by several replicas (needs the `postgres` extra)."""
