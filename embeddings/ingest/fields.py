"""Metadata values from files anyone may have written (JSON records, YAML front matter),
checked for type: a title that is an object, or an id that is a float, refuses the record
with a reason instead of being indexed as "{'a': 1}" or "inf"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from embeddings.errors import ParseError

_KINDS = {dict: "an object", list: "a list", bool: "true or false", float: "a decimal number"}


def text_field(record: Mapping[str, Any], key: str) -> str | None:
    """`record[key]` as text (None when absent, null or blank): strings, whole numbers and
    dates (YAML reads `title: 1984` and `title: 2024-01-01` as those) are taken; anything
    else is a ParseError."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | dt.date):
        kind = _KINDS.get(type(value), type(value).__name__)
        raise ParseError(f"`{key}` must be text, not {kind}")
    return strip_nul(str(value)).strip() or None


def strip_nul(text: str) -> str:
    """NUL characters removed (JSON's \\u0000 escapes give them; no database stores them)."""
    return text.replace("\x00", "")
