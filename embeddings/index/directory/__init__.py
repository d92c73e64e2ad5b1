"""The index as files in a directory: FAISS vectors, SQLite rows, generations, manifest."""
