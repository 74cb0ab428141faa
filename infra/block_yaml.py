"""A fast reader for block-style YAML, the form `kubectl kustomize` writes.

libyaml builds a node (and two position marks) for every scalar before PyYAML turns it into
a Python value; on a full Kubeflow render that is the largest CPU cost of a plan after
kustomize itself. kustomize's writer (kyaml, a go-yaml v3 emitter) uses a small part of
YAML: block mappings and sequences, plain and quoted scalars (wrapped over lines), literal
block scalars, `{}` and `[]`. This module reads that part line by line into the same Python
values as PyYAML's safe loader (its YAML 1.1 scalar resolution: `yes` is True, `0o7` a
string, `2001-12-14` a date) and declines anything else: flow collections, anchors and
aliases, tags, directives, folded scalars, complex keys, tabs in the structure, any error.
`infra.safe_yaml.load_all` reads a declined document with libyaml as before, so this path
can only be faster, never different; tests compare the two on every YAML file of the shared
releases and on their renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import repeat
from operator import sub
from typing import Any

import yaml

__all__ = ["Declined", "documents", "read_document"]

_SafeLoader: type[Any] = yaml.SafeLoader
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    k: v for k, v in _SafeLoader.yaml_implicit_resolvers.items() if k is not None
}
_STR = "tag:yaml.org,2002:str"
# Scalar tags built here; any other a plain scalar resolves to (merge `<<`, value `=`) declines.
_BUILT_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp", "str")
)
# Characters that never start a plain scalar; `-`, `?` and `:` only before a space.
_NOT_PLAIN_START = frozenset(",[]{}#&*!|>'\"%@`")
_ASCII_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A document marker line, and a line with content (not blank, not a comment).
_MARKER = re.compile(r"^(---|\.\.\.)(.*)$", re.MULTILINE)
_CONTENT = re.compile(r"^ *[^ #\n]", re.MULTILINE)
# Line breaks of YAML 1.1 other than \n (PyYAML and libyaml break lines at each).
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
# PyYAML and libyaml refuse a simple (one-line) key longer than this.
_LONGEST_KEY = 1024
# A value starting with one of these takes the full path (quoted, literal, flow, indicator).
_NOT_SIMPLE_START = _NOT_PLAIN_START | frozenset("-?: ")
# PyYAML's own test of the characters it accepts in a stream (yaml/reader.py).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
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


def _plain_value(text: str) -> Any:
    """The value of a plain scalar: PyYAML's implicit resolvers, then its constructor."""
    if text and text[0] not in _RESOLVERS:
        return text
    return _resolved(text)


@lru_cache(maxsize=4096)
def _resolved(text: str) -> Any:
    tag = next((t for t, pattern in _RESOLVERS.get(text[:1], ()) if pattern.match(text)), _STR)
    if tag == _STR:
        return text
    if tag not in _BUILT_TAGS:
        raise Declined
    return _SafeLoader.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))


_CONSTRUCTOR = _SafeLoader("")


def _is_entry(body: str) -> bool:
    """Whether a line's content (from its indent) is a block sequence entry."""
    return body[:2] == "- " or body == "-"


def _plain_start(text: str) -> bool:
    """Whether `text` may start a plain scalar."""
    first = text[0]
    if first in "-?:":
        return len(text) > 1 and text[1] != " "
    return first not in _NOT_PLAIN_START


def _unescape(body: str) -> str:
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


def _closing_quote(line: str, start: int, quote: str) -> int:
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


def _quoted_piece(piece: str, quote: str) -> str:
    return piece.replace("''", "'") if quote == "'" else _unescape(piece)


class _Document:
    """One document's lines, each with its indent, read by a recursive descent."""

    def __init__(self, lines: list[str], max_depth: int, *, open_end: bool) -> None:
        self.raw = lines
        # Each line from its indent; a sequence entry `- key: v` is rewritten to `key: v`.
        self.body = list(map(str.lstrip, lines, repeat(" ")))
        self.indent = list(map(sub, map(len, lines), map(len, self.body)))
        self.end = len(lines)
        self.max_depth = max_depth
        self.open_end = open_end

    def content(self, i: int) -> int:
        """The index of the first line from `i` that is neither blank nor a comment."""
        body, end = self.body, self.end
        while i < end and (not body[i] or body[i][0] == "#"):
            i += 1
        return i

    def collection(self, i: int, depth: int) -> tuple[Any, int]:
        """Read the block mapping or sequence starting at content line `i`."""
        if depth >= self.max_depth:
            raise Declined  # its scalars sit one level deeper still
        if _is_entry(self.body[i]):
            return self.sequence(i, self.indent[i], depth)
        return self.mapping(i, self.indent[i], depth)

    def mapping(self, i: int, n: int, depth: int) -> tuple[dict[Any, Any], int]:
        """Read the block mapping whose keys start at column `n`, from line `i`."""
        built: dict[Any, Any] = {}
        body, indent, end = self.body, self.indent, self.end
        while i < end:
            if indent[i] != n:
                if indent[i] > n:
                    raise Declined
                break
            line = body[i]
            if line[0] == "-" and _is_entry(line):
                break
            cut = line.find(": ")
            if cut < 0 and line[-1] == ":":
                cut = len(line) - 1  # `key:`, its value on the lines below
            key_text = line[:cut]
            if (
                0 < cut < _LONGEST_KEY
                and key_text[-1] != " "
                and _plain_start(key_text)
                and _plain_key(key_text)
            ):
                key = key_text if key_text[0] not in _RESOLVERS else _resolved(key_text)
                rest = line[cut + 2 :]
                j = i + 1
                # The common case, `key: word` before a line no deeper: no call for the value.
                if (
                    rest
                    and rest[0] not in _NOT_SIMPLE_START
                    and (j == end or (indent[j] <= n and body[j] and body[j][0] != "#"))
                    and _simple(rest)
                ):
                    built[key] = rest if rest[0] not in _RESOLVERS else _resolved(rest)
                    i = j
                    continue
            else:
                key, rest = _key(line)
            built[key], i = self.value(rest, i, n, depth, in_mapping=True)
            if i < end and (not body[i] or body[i][0] == "#"):
                i = self.content(i)
        return built, i

    def sequence(self, i: int, n: int, depth: int) -> tuple[list[Any], int]:
        """Read the block sequence whose `-` are at column `n`, from line `i`."""
        built: list[Any] = []
        body, indent, end = self.body, self.indent, self.end
        while i < end and indent[i] == n:
            line = body[i]
            if not _is_entry(line):
                break
            item = line[1:].lstrip(" ")
            if item and item[0] not in "#|'\"" and (": " in item or item[-1] == ":"):
                if not _plain_start(item):
                    raise Declined  # `- - x`, `- ? x`, `- &a k: v` ...
                if depth + 1 >= self.max_depth:
                    raise Declined
                # `- key: value`: a mapping whose keys sit at the column of `key`.
                column = n + len(line) - len(item)
                body[i], indent[i] = item, column
                value, i = self.mapping(i, column, depth + 1)
            else:
                value, i = self.value(line[1:], i, n, depth, in_mapping=False)
            built.append(value)
            if i < end and (not body[i] or body[i][0] == "#"):
                i = self.content(i)
        if i < end and indent[i] > n:
            raise Declined
        return built, i

    def value(
        self, rest: str, i: int, parent: int, depth: int, *, in_mapping: bool
    ) -> tuple[Any, int]:
        """Read the value after `key:` or `-` on line `i`, whose indent is `parent`.

        Returns the value and the index of the line after it. A mapping's value may be a
        sequence whose `-` sit at the key's own column.
        """
        rest = rest.lstrip(" ")
        if not rest or rest[0] == "#":
            j = self.content(i + 1)
            if j < self.end:
                n = self.indent[j]
                if n > parent or (n == parent and in_mapping and _is_entry(self.body[j])):
                    return self.collection(j, depth + 1)
            return None, i + 1
        first = rest[0]
        if first in "'\"":
            value, after, j = self.quoted(rest, i)
            after = after.lstrip(" ")
            if after and after[0] != "#":
                raise Declined
            return value, self.after_scalar(j, parent)
        if first == "|":
            return self.literal(rest, i, parent)
        if rest in ("{}", "[]"):
            return ({} if first == "{" else []), self.after_scalar(i, parent)
        if not _plain_start(rest):
            raise Declined
        return self.plain(rest, i, parent)

    def after_scalar(self, i: int, parent: int) -> int:
        """The line after a scalar ending on line `i`; a deeper line would be an error."""
        j = self.content(i + 1)
        if j < self.end and self.indent[j] > parent:
            raise Declined
        return i + 1

    def plain(self, text: str, i: int, parent: int) -> tuple[Any, int]:
        """Read a plain scalar starting with `text` on line `i`, folded over deeper lines."""
        text, ended = _plain_line(text)
        body, indent, end = self.body, self.indent, self.end
        last = i
        if not ended:
            chunks: list[str] = []
            j, breaks = i + 1, 0
            while j < end:
                line = body[j]
                if not line:
                    breaks += 1
                elif indent[j] <= parent or line[0] == "#":
                    break
                else:
                    piece, ended = _plain_line(line)
                    chunks.append(" " if breaks == 0 else "\n" * breaks)
                    chunks.append(piece)
                    breaks, last = 0, j
                    if ended:
                        break
                j += 1
            if chunks:
                text = text + "".join(chunks)
        return _plain_value(text), self.after_scalar(last, parent)

    def quoted(self, text: str, i: int) -> tuple[str, str, int]:
        """Read a quoted scalar starting with `text` on line `i`, maybe over more lines.

        Returns its value, the text after its closing quote and that quote's line.
        """
        quote = text[0]
        line, start, j = text, 1, i
        chunks: list[str] = []
        while True:
            close = _closing_quote(line, start, quote)
            if close >= 0:
                chunks.append(_quoted_piece(line[start:close], quote))
                return "".join(chunks), line[close + 1 :], j
            piece = line[start:].rstrip(" \t")
            joined = False
            if quote == '"' and piece.endswith("\\"):
                run = len(piece) - len(piece.rstrip("\\"))
                if run % 2 == 1 and piece == line[start:]:
                    piece, joined = piece[:-1], True  # an escaped line break
                elif run % 2 == 1:
                    raise Declined  # escaped white space before the break
            chunks.append(_quoted_piece(piece, quote))
            breaks = 0
            j += 1
            while j < self.end and not self.raw[j].strip(" \t"):
                breaks += 1
                j += 1
            if j >= self.end:
                raise Declined  # not closed in this document
            chunks.append("\n" * breaks if joined or breaks else " ")
            line, start = self.raw[j].lstrip(" \t"), 0

    def literal(self, header: str, i: int, parent: int) -> tuple[str, int]:
        """Read a literal block scalar (`|`, `|-`, `|2+` ...) whose header is on line `i`."""
        chomp, increment = _literal_header(header)
        raw, indent, end = self.raw, self.indent, self.end
        # An explicit indentation is relative to the parent's; else the first line sets it.
        column = parent + increment if increment else -1
        j = i + 1
        lines: list[str] = []
        while j < end:
            line = raw[j]
            if line:
                n = indent[j]
                if n == len(line) and (column < 0 or n < column):
                    raise Declined  # spaces only: PyYAML's rules depend on their count
                if column < 0:
                    if n <= parent:
                        break
                    column = n
                elif n < column:
                    break
                line = line[column:]
            lines.append(line)
            j += 1
        if j == end and self.open_end:
            raise Declined  # the stream's last line has no break to keep or clip
        j = self.content(j)
        if j < end and indent[j] > parent:
            raise Declined
        return _chomped(lines, chomp), j


def _literal_header(header: str) -> tuple[str, int]:
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


def _chomped(lines: list[str], chomp: str) -> str:
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


def _plain_key(text: str) -> bool:
    """Whether the text before `: ` is a whole plain key (no comment, no tab in it)."""
    return " #" not in text and "\t" not in text


def _simple(text: str) -> bool:
    """Whether `text` is a whole one-line plain scalar: no comment, `: `, tab or end space."""
    return (
        " #" not in text
        and ": " not in text
        and "\t" not in text
        and text[-1] != ":"
        and text[-1] != " "
    )


def _plain_line(text: str) -> tuple[str, bool]:
    """One line of a plain scalar, and whether a comment ends the scalar there."""
    cut = text.find(" #")
    ended = cut >= 0
    if ended:
        text = text[:cut]
    text = text.rstrip(" ")
    if "\t" in text or ": " in text or text[-1:] == ":":
        raise Declined  # PyYAML: "mapping values are not allowed here", or a tab
    return text, ended


def _key(line: str) -> tuple[Any, str]:
    """Split a one-line mapping entry into its key and the text after `:`."""
    first = line[0]
    if first in "'\"":
        close = _closing_quote(line, 1, first)
        if close < 0 or line[close + 1 : close + 3] not in (":", ": "):
            raise Declined
        return _quoted_piece(line[1:close], first), line[close + 2 :]
    cut = line.find(": ")
    if cut < 0:
        if line[-1] != ":":
            raise Declined
        cut = len(line) - 1
    key = line[:cut].rstrip(" ")
    if not key or len(key) >= _LONGEST_KEY or not _plain_start(key) or " #" in key or "\t" in key:
        raise Declined
    return _plain_value(key), line[cut + 1 :]


def read_document(
    lines: list[str], *, max_depth: int, max_nodes: int, open_end: bool = False
) -> Any:
    """Return the value of one document's lines (markers excluded), or raise Declined.

    Args:
        lines: The document's lines, without line breaks (`documents` splits a stream).
        max_depth: Nesting allowed; a deeper document is declined (libyaml reports it).
        max_nodes: Nodes allowed; a document that may hold more is declined.
        open_end: The last line has no line break (a stream that does not end with one).

    """
    if 3 * len(lines) + 1 > max_nodes:
        raise Declined  # a line makes at most a collection, a key and a value
    reader = _Document(lines, max_depth, open_end=open_end)
    i = reader.content(0)
    if i == reader.end:
        return None
    body = reader.body[i]
    if reader.indent[i] != 0 or not (_is_entry(body) or ": " in body or body[-1] == ":"):
        raise Declined  # a scalar document, a flow collection, a directive
    value, j = reader.collection(i, 1)
    if reader.content(j) != reader.end:
        raise Declined
    return value


def documents(text: str) -> Iterator[tuple[list[str], bool]]:
    """Split a stream at its `---` lines: each document's lines, and whether it is open.

    The implicit first document (before any marker) counts only if it has content, as in
    PyYAML; an explicit one always does (an empty one is None). The last document is open
    when the stream does not end with a line break.

    Raises:
        Declined: the stream holds something the splitter cannot place (a marker with
            content after it, `...`, a line break other than a newline, a byte-order mark or
            a character PyYAML refuses).

    """
    if text.isascii():
        if "\r" in text or _ASCII_NON_PRINTABLE.search(text):
            raise Declined
    elif _OTHER_BREAKS.search(text) or text[0] == "\ufeff" or _NON_PRINTABLE.search(text):
        raise Declined
    if not text:
        return
    start, explicit = 0, False
    for marker in _MARKER.finditer(text):
        if marker.group(1) == "..." or marker.group(2).strip(" "):
            raise Declined
        piece = text[start : marker.start()]
        if explicit or _CONTENT.search(piece):
            yield piece[:-1].split("\n") if piece else [], False
        start, explicit = marker.end() + 1, True
    piece = text[start:]
    if explicit or _CONTENT.search(piece):
        open_end = piece[-1:] not in ("\n", "")
        yield (piece if open_end else piece[:-1]).split("\n") if piece else [], open_end
