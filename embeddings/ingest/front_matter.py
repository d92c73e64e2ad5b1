"""YAML front matter read safely: no aliases, a size cap and a nesting cap.

PyYAML's safe loader still expands aliases: nine levels of `&a [*b, *b, …]` in 421 bytes
make billions of nodes (the bot grew to 22.8 GB before the kernel killed it). Front matter
is a handful of keys (title, date, source_url); it has no use for aliases or deep nesting.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import Node

from embeddings.errors import ParseError

MAX_BYTES = 64 * 1024  # far above any real header; bounds the pure-Python parser's work
MAX_DEPTH = 32


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting past MAX_DEPTH while composing nodes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter", mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_front_matter(text: str) -> Any:
    """The YAML document `text`, or ParseError (too long, an alias, too deep, invalid)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ParseError(f"front matter is longer than {MAX_BYTES // 1024} KB")
    try:
        return yaml.load(text, Loader=_FrontMatterLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        first = str(error).strip().splitlines()[0]
        raise ParseError(f"front matter is not valid YAML ({first})") from None
