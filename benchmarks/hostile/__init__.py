"""Replays of hostile inputs against the real code (files.py: article files and uploads)."""
