"""News feeds: polite fetching, RSS/Atom parsing, poll state, saving and indexing new articles."""
