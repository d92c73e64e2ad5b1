"""The tables, in one database (`namespace` defaults to ``newsdesk``)::

    <ns>.meta                key/value; schema_version
    <ns>.generations         id, manifest (jsonb), details (jsonb: which vector sets have HNSW)
    <ns>.current             one row: the generation every replica serves
    <ns>_g<id>.articles      one schema per generation: articles, passages, sentences (with
    <ns>_g<id>.passages      their pgvector columns and the passages' tsvector), and files
    <ns>_g<id>.sentences     (the BM25 arrays and the sentence map, as bytea)
    <ns>_g<id>.files

Each build writes one new generation schema, and drops all but it and the one before.
"""

# 2: passages.speaker (who is quoted, when the text leaves it implicit).
SCHEMA_VERSION = 2

META = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA {ns};
CREATE TABLE {ns}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE {ns}.generation_ids;
CREATE TABLE {ns}.generations (
    id bigint PRIMARY KEY,
    manifest jsonb NOT NULL,
    details jsonb NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {ns}.current (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint REFERENCES {ns}.generations (id)
);
INSERT INTO {ns}.current (generation) VALUES (NULL);
"""

GENERATION = """
CREATE SCHEMA {g};
CREATE TABLE {g}.articles (
    id text PRIMARY KEY, title text NOT NULL, date text, url text, source text, license text,
    path text NOT NULL,
    paragraphs text NOT NULL,   -- JSON list: the full article
    digest text NOT NULL
);
CREATE TABLE {g}.passages (
    id integer PRIMARY KEY,     -- row number, as in the FAISS backend
    article_id text NOT NULL,
    position integer NOT NULL,
    text text NOT NULL,
    digest text NOT NULL,
    speaker text,               -- who is quoted, when the text leaves it implicit
    lexical text NOT NULL,      -- title and passage: what full-text search reads
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', lexical)) STORED,
    embedding vector({d}) NOT NULL,
    ml_embedding vector({md})
);
CREATE TABLE {g}.sentences (
    id integer PRIMARY KEY,     -- a passage's sentences are contiguous rows
    passage_id integer NOT NULL,
    article_id text NOT NULL,   -- the distribution column under Citus (README, Scaling out)
    start integer NOT NULL,
    "end" integer NOT NULL,
    digest text NOT NULL,
    embedding vector({d}) NOT NULL,
    ml_embedding vector({md})
);
CREATE TABLE {g}.files (name text PRIMARY KEY, data bytea NOT NULL);
"""
