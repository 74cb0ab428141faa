"""Scalars of block-style YAML as PyYAML reads them: resolution, quotes, literals, keys."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

__all__ = [
    "LONGEST_KEY",
    "NOT_SIMPLE_START",
    "RESOLVERS",
    "Declined",
    "chomped",
    "closing_quote",
    "is_entry",
    "literal_header",
    "plain_key",
    "plain_line",
    "plain_start",
    "plain_value",
    "quoted_piece",
    "resolved",
    "simple",
    "split_key",
]

_SafeLoader: type[Any] = yaml.SafeLoader
# PyYAML's implicit resolvers of plain scalars, by first character.
RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    k: v for k, v in _SafeLoader.yaml_implicit_resolvers.items() if k is not None
}
_STR = "tag:yaml.org,2002:str"
# Scalar tags built here; any other a plain scalar resolves to (merge `<<`, value `=`) declines.
_BUILT_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp", "str")
)
# Characters that never start a plain scalar; `-`, `?` and `:` only before a space.
_NOT_PLAIN_START = frozenset(",[]{}#&*!|>'\"%@`")
# PyYAML and libyaml refuse a simple (one-line) key longer than this.
LONGEST_KEY = 1024
# A value starting with one of these takes the full path (quoted, literal, flow, indicator).
NOT_SIMPLE_START = _NOT_PLAIN_START | frozenset("-?: ")
# The escapes of a double-quoted scalar (PyYAML's ESCAPE_REPLACEMENTS and ESCAPE_CODES).
_ESCAPES = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_HEX = re.compile(r"[0-9A-Fa-f]+\Z")


class Declined(Exception):
    """A document outside the subset this reader builds (libyaml reads it instead)."""


def plain_value(text: str) -> Any:
    """The value of a plain scalar: PyYAML's implicit resolvers, then its constructor."""
    if text and text[0] not in RESOLVERS:
        return text
    return resolved(text)


@lru_cache(maxsize=4096)
def resolved(text: str) -> Any:
    """The value of a plain scalar whose first character some resolver knows (cached)."""
    tag = next((t for t, pattern in RESOLVERS.get(text[:1], ()) if pattern.match(text)), _STR)
    if tag == _STR:
        return text
    if tag not in _BUILT_TAGS:
        raise Declined
    return _SafeLoader.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))


_CONSTRUCTOR = _SafeLoader("")


def is_entry(body: str) -> bool:
    """Whether a line's content (from its indent) is a block sequence entry."""
    return body[:2] == "- " or body == "-"


def plain_start(text: str) -> bool:
    """Whether `text` may start a plain scalar."""
    first = text[0]
    if first in "-?:":
        return len(text) > 1 and text[1] != " "
    return first not in _NOT_PLAIN_START


def unescape(body: str) -> str:
    """Decode the escapes of a piece of a double-quoted scalar (no line break in it)."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i, end = 0, len(body)
    while i < end:
        j = body.find("\\", i)
        if j < 0:
            out.append(body[i:])
            break
        out.append(body[i:j])
        code = body[j + 1 : j + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i = j + 2
        elif code in _HEX_DIGITS:
            digits = body[j + 2 : j + 2 + _HEX_DIGITS[code]]
            if len(digits) != _HEX_DIGITS[code] or not _HEX.match(digits):
                raise Declined
            out.append(chr(int(digits, 16)))
            i = j + 2 + len(digits)
        else:
            raise Declined
    return "".join(out)


def closing_quote(line: str, start: int, quote: str) -> int:
    """The index of the quote closing a scalar in `line` from `start`, or -1."""
    j = line.find(quote, start)
    while j >= 0:
        if quote == "'":
            if line[j + 1 : j + 2] != "'":
                return j
            j = line.find(quote, j + 2)
            continue
        k = j
        while k > start and line[k - 1] == "\\":
            k -= 1
        if (j - k) % 2 == 0:  # not escaped
            return j
        j = line.find(quote, j + 1)
    return -1


def quoted_piece(piece: str, quote: str) -> str:
    """The value of a piece of a quoted scalar (between its quotes, on one line)."""
    return piece.replace("''", "'") if quote == "'" else unescape(piece)


def literal_header(header: str) -> tuple[str, int]:
    """The chomping (`""`, `-`, `+`) and indentation (0: detect) of a block header."""
    rest = header[1:].rstrip(" ")
    chomp = increment = ""
    for char in rest:
        if char in "+-" and not chomp:
            chomp = char
        elif char in "123456789" and not increment:
            increment = char
        else:
            raise Declined  # a comment after the header, or not a header at all
    return chomp, int(increment or 0)


def chomped(lines: list[str], chomp: str) -> str:
    """The value of a literal scalar's lines after its chomping indicator."""
    kept = len(lines)
    while kept and not lines[kept - 1]:
        kept -= 1
    if not kept:
        return "\n" * len(lines) if chomp == "+" else ""
    value = "\n".join(lines[:kept])
    if chomp == "+":
        return value + "\n" * (len(lines) - kept + 1)
    return value + "\n" if chomp == "" else value


def plain_key(text: str) -> bool:
    """Whether the text before `: ` is a whole plain key (no comment, no tab in it)."""
    return " #" not in text and "\t" not in text


def simple(text: str) -> bool:
    """Whether `text` is a whole one-line plain scalar: no comment, `: `, tab or end space."""
    return (
        " #" not in text
        and ": " not in text
        and "\t" not in text
        and text[-1] != ":"
        and text[-1] != " "
    )


def plain_line(text: str) -> tuple[str, bool]:
    """One line of a plain scalar, and whether a comment ends the scalar there."""
    cut = text.find(" #")
    ended = cut >= 0
    if ended:
        text = text[:cut]
    text = text.rstrip(" ")
    if "\t" in text or ": " in text or text[-1:] == ":":
        raise Declined  # PyYAML: "mapping values are not allowed here", or a tab
    return text, ended


def split_key(line: str) -> tuple[Any, str]:
    """Split a one-line mapping entry into its key and the text after `:`."""
    first = line[0]
    if first in "'\"":
        close = closing_quote(line, 1, first)
        if close < 0 or line[close + 1 : close + 3] not in (":", ": "):
            raise Declined
        return quoted_piece(line[1:close], first), line[close + 2 :]
    cut = line.find(": ")
    if cut < 0:
        if line[-1] != ":":
            raise Declined
        cut = len(line) - 1
    key = line[:cut].rstrip(" ")
    if not key or len(key) >= LONGEST_KEY or not plain_start(key) or " #" in key or "\t" in key:
        raise Declined
    return plain_value(key), line[cut + 1 :]
