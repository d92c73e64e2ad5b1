"""Markdown body → plain paragraphs (links reduced to their text, bullets and emphasis stripped).

Not a full CommonMark parser: enough for news exported as Markdown (pandoc-style hard-wrapped
lines, bullet lists, HTML fragments such as tables and figures, emphasis, links).
"""

from __future__ import annotations

import html
import re

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s*>\s?")
_IMAGE = re.compile(r"!\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_BREAK_TAG = re.compile(r"<br\s*/?>|</(?:p|div|td|th|tr|li|h\d|figcaption)>", re.IGNORECASE)
_DROP_ELEMENT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_STAR_EMPHASIS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)")
_STRAY_STARS = re.compile(r"(?<![\w*])\*+(?![\w*])")
_CODE = re.compile(r"`+([^`]*)`+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+")


def markdown_to_paragraphs(text: str) -> tuple[list[str], str | None]:
    """Paragraphs of plain text, and the first heading (a title when front matter has none)."""
    text = _DROP_ELEMENT.sub("", _COMMENT.sub("", text))
    blocks: list[list[str]] = []
    current: list[str] = []
    heading: str | None = None
    in_fence = False

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(current)
            current = []

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            flush()
            continue
        if in_fence:
            current.append(line)
            continue
        if not line.strip() or _RULE.match(line) or _REFERENCE_DEFINITION.match(line):
            flush()
            continue
        line = _QUOTE.sub("", line)
        heading_match = _HEADING.match(line)
        if heading_match:
            flush()
            if heading is None and len(heading_match.group(1)) == 1:
                # The first top-level heading is the title, not body text.
                heading = inline_to_text(heading_match.group(2))
            else:
                blocks.append([heading_match.group(2)])
            continue
        if _LIST_ITEM.match(line):
            # Each bullet is its own unit; the chunker merges the short ones with neighbours.
            flush()
            line = _LIST_ITEM.sub("", line)
        current.append(line)
    flush()
    paragraphs = [inline_to_text(" ".join(part.strip() for part in block)) for block in blocks]
    return [p for p in paragraphs if p], heading


def inline_to_text(text: str) -> str:
    """Inline Markdown (and stray HTML) → plain text."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _BREAK_TAG.sub(" ", text)
    text = _TAG.sub("", text)
    text = _CODE.sub(r"\1", text)
    for _ in range(2):  # "***bold italic***" and nested "**a _b_**" need a second pass
        text = _STAR_EMPHASIS.sub(r"\2", text)
        text = _UNDERSCORE_EMPHASIS.sub(r"\2", text)
    text = _STRAY_STARS.sub("", text)
    text = _ESCAPE.sub(r"\1", text)
    text = html.unescape(text)
    return " ".join(text.replace("\u00a0", " ").split())
