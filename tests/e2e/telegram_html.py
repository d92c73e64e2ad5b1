"""Telegram's HTML parse mode: validate a message the way the Bot API does, and convert it.

Telegram never stores HTML: it parses the text into plain text plus entities (offsets and
lengths in UTF-16 code units) and rejects text it cannot parse with
``Bad Request: can't parse entities: <reason>``. This module reproduces that, following the
Bot API "HTML style" rules and the error wording of tdlib's parser.

It is deliberately a little stricter than tdlib in three places, each of which is a bug in the
bot even when Telegram lets it through:

* a bare ``&`` or ``>`` is rejected (tdlib shows it literally, so an unescaped ``&lt;`` in a
  news headline would silently render as ``<``);
* attributes a tag does not support are rejected (tdlib ignores them);
* named entities need their ``;``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]

# Tag name -> entity type; the tags Telegram documents, and nothing else.
_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,8})|([a-zA-Z]+));")
# Whitespace Telegram trims from both ends of every message text and caption.
_TRIMMED = " \t\n\r\v\f\x00"


class HtmlParseError(ValueError):
    """Text Telegram would refuse; str() is the reason after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram offset, length and limit."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The substring an entity covers."""
    raw = text.encode("utf-16-le", "surrogatepass")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", "surrogatepass")


def entity_texts(text: str, entities: list[Entity], entity_type: str) -> list[str]:
    """The substrings of ``text`` covered by entities of one type, e.g. every bold run."""
    return [
        utf16_slice(text, e["offset"], e["length"]) for e in entities if e["type"] == entity_type
    ]


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    offset: int  # UTF-16 offset in the plain text where the tag's content starts
    children: list[Entity] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def byte_offset(self, pos: int) -> int:
        # tdlib reports positions in bytes of the UTF-8 request text.
        return len(self.text[:pos].encode("utf-8", "surrogatepass"))

    def emit(self, chars: str) -> None:
        self.out.append(chars)
        self.offset += utf16_len(chars)

    def run(self) -> tuple[str, list[Entity]]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "&":
                self.emit(self.entity())
            elif char == ">":
                raise HtmlParseError(
                    f'Unescaped ">" at byte offset {self.byte_offset(self.pos)}; use "&gt;"'
                )
            elif char == "<":
                if text.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                self.emit(char)
                self.pos += 1
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), entities

    def entity(self) -> str:
        match = _ENTITY_RE.match(self.text, self.pos)
        char: str | None = None
        if match:
            hex_digits, dec_digits, name = match.groups()
            if name is not None:
                char = _NAMED_ENTITIES.get(name)
            else:
                code = int(hex_digits, 16) if hex_digits else int(dec_digits)
                # tdlib refuses 0 and anything past Unicode; lone surrogates can't be UTF-8.
                if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    char = chr(code)
        if match is None or char is None:
            raise HtmlParseError(
                f'Unsupported HTML entity or unescaped "&" at byte offset '
                f'{self.byte_offset(self.pos)}; use "&amp;"'
            )
        self.pos = match.end()
        return char

    def start_tag(self) -> None:
        text, begin = self.text, self.pos
        end = begin + 1
        while end < len(text) and not text[end].isspace() and text[end] != ">":
            end += 1
        if end >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        name = text[begin + 1 : end].lower()
        if name not in _TAG_TYPES:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        self.pos = end
        attributes = self.attributes(name, begin)
        self.check_attributes(name, attributes, begin)
        self.stack.append(_OpenTag(name, attributes, self.offset))

    def attributes(self, tag: str, begin: int) -> dict[str, str]:
        """Reads ``name="value"`` pairs up to and including the closing ``>`` of a tag."""
        text, result = self.text, dict[str, str]()
        where = f'the tag "{tag}" at byte offset {self.byte_offset(begin)}'
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if text[self.pos] == ">":
                self.pos += 1
                return result
            name_start = self.pos
            while self.pos < len(text) and text[self.pos] not in "= \t\r\n>":
                self.pos += 1
            name = text[name_start : self.pos].lower()
            if not name:
                raise HtmlParseError(f"Empty attribute name in {where}")
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos < len(text) and text[self.pos] != "=":
                # Only <blockquote expandable> has a value-less attribute.
                result[name] = ""
                continue
            self.pos += 1
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            result[name] = self.attribute_value(begin)

    def attribute_value(self, begin: int) -> str:
        text = self.text
        if self.pos >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        quote = text[self.pos]
        if quote not in "\"'":
            # An unquoted value is an HTML name token: letters, digits, periods, hyphens.
            token_start = self.pos
            while self.pos < len(text) and (text[self.pos].isalnum() or text[self.pos] in ".-"):
                self.pos += 1
            if self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] != ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token_start)}"
                )
            return text[token_start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.pos < len(text) and text[self.pos] != quote:
            if text[self.pos] == "&":
                value.append(self.entity())
            else:
                value.append(text[self.pos])
                self.pos += 1
        if self.pos >= len(text):
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        return "".join(value)

    def check_attributes(self, tag: str, attributes: dict[str, str], begin: int) -> None:
        at = f"at byte offset {self.byte_offset(begin)}"
        for name in attributes:
            if name not in _ALLOWED_ATTRIBUTES.get(tag, set()):
                raise HtmlParseError(f'Unsupported attribute "{name}" in the tag "{tag}" {at}')
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" {at}')
        if tag == "code" and not attributes.get("class", "language-").startswith("language-"):
            raise HtmlParseError(f'Class of the tag "code" must start with "language-" {at}')
        if tag == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise HtmlParseError(f'Tag "tg-emoji" must have a numeric attribute "emoji-id" {at}')
        if tag == "blockquote" and attributes.get("expandable", "") != "":
            raise HtmlParseError(
                f'Attribute "expandable" of the tag "blockquote" has no value {at}'
            )

    def end_tag(self) -> None:
        text, begin = self.text, self.pos
        end = begin + 2
        while end < len(text) and not text[end].isspace() and text[end] != ">":
            end += 1
        name = text[begin + 2 : end].lower()
        while end < len(text) and text[end].isspace():
            end += 1
        if end >= len(text) or text[end] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        tag = self.stack[-1]
        # As in tdlib, "</>" closes whatever is open.
        if name and name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self.stack.pop()
        self.close(tag)

    def close(self, tag: _OpenTag) -> None:
        """Turns a closed tag into an entity and hands it (and its children) to the parent."""
        length = self.offset - tag.offset
        children = tag.children
        entity: Entity | None = None
        if length > 0:  # Telegram drops empty entities
            entity = {"type": _TAG_TYPES[tag.name], "offset": tag.offset, "length": length}
            if tag.name == "a":
                # An empty href makes tdlib use the link text as the URL.
                entity["url"] = tag.attributes.get("href") or utf16_slice(
                    "".join(self.out), tag.offset, length
                )
            elif tag.name == "tg-emoji":
                entity["custom_emoji_id"] = tag.attributes["emoji-id"]
            elif tag.name == "code" and "class" in tag.attributes:
                # A language only means something to the <pre> around the code.
                if self.stack and self.stack[-1].name == "pre":
                    entity["language"] = tag.attributes["class"].removeprefix("language-")
            elif tag.name == "blockquote" and "expandable" in tag.attributes:
                entity["type"] = "expandable_blockquote"
            if tag.name in ("pre", "code"):
                # Nothing renders inside code; <pre><code class="language-x"> names the language.
                languages = [c["language"] for c in children if "language" in c]
                if tag.name == "pre" and languages:
                    entity["language"] = languages[0]
                children = []
            elif entity["type"].endswith("blockquote"):
                children = [c for c in children if not c["type"].endswith("blockquote")]
        produced = children + ([entity] if entity else [])
        if self.stack:
            self.stack[-1].children.extend(produced)
        else:
            self.entities.extend(produced)


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parses Telegram HTML into (plain text, entities); raises HtmlParseError if Telegram would."""
    return _Parser(text).run()


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram strips leading and trailing whitespace from texts, clipping entities to match."""
    stripped = text.lstrip(_TRIMMED)
    shift = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip(_TRIMMED)
    end = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            result.append({**entity, "offset": start, "length": stop - start})
    return stripped, result
