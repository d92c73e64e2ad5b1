"""The index: the store protocol both backends implement, the indexer, BM25 statistics."""
