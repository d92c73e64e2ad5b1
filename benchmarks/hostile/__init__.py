"""Hostile inputs replayed against the real code on loopback: each module exposes `attacks()`."""
