"""Hostile inputs replayed against the real code: each module (files.py: article files and
uploads; net.py: feeds, webhook and Bot API on loopback) exposes `attacks()`; run them all with
`python -m benchmarks.hostile`."""
