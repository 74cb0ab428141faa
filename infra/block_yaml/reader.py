"""One document of block-style YAML, read by a recursive descent over its lines."""

from __future__ import annotations

from itertools import repeat
from operator import sub
from typing import Any

from infra.block_yaml.scalars import (
    LONGEST_KEY,
    NOT_SIMPLE_START,
    RESOLVERS,
    Declined,
    chomped,
    closing_quote,
    is_entry,
    literal_header,
    plain_key,
    plain_line,
    plain_start,
    plain_value,
    quoted_piece,
    resolved,
    simple,
    split_key,
)

__all__ = ["read_document"]


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
        if is_entry(self.body[i]):
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
            if line[0] == "-" and is_entry(line):
                break
            cut = line.find(": ")
            if cut < 0 and line[-1] == ":":
                cut = len(line) - 1  # `key:`, its value on the lines below
            key_text = line[:cut]
            if (
                0 < cut < LONGEST_KEY
                and key_text[-1] != " "
                and plain_start(key_text)
                and plain_key(key_text)
            ):
                key = key_text if key_text[0] not in RESOLVERS else resolved(key_text)
                rest = line[cut + 2 :]
                j = i + 1
                # The common case, `key: word` before a line no deeper: no call for the value.
                if (
                    rest
                    and rest[0] not in NOT_SIMPLE_START
                    and (j == end or (indent[j] <= n and body[j] and body[j][0] != "#"))
                    and simple(rest)
                ):
                    built[key] = rest if rest[0] not in RESOLVERS else resolved(rest)
                    i = j
                    continue
            else:
                key, rest = split_key(line)
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
            if not is_entry(line):
                break
            item = line[1:].lstrip(" ")
            if item and item[0] not in "#|'\"" and (": " in item or item[-1] == ":"):
                if not plain_start(item):
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
                if n > parent or (n == parent and in_mapping and is_entry(self.body[j])):
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
        if not plain_start(rest):
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
        text, ended = plain_line(text)
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
                    piece, ended = plain_line(line)
                    chunks.append(" " if breaks == 0 else "\n" * breaks)
                    chunks.append(piece)
                    breaks, last = 0, j
                    if ended:
                        break
                j += 1
            if chunks:
                text = text + "".join(chunks)
        return plain_value(text), self.after_scalar(last, parent)

    def quoted(self, text: str, i: int) -> tuple[str, str, int]:
        """Read a quoted scalar starting with `text` on line `i`, maybe over more lines.

        Returns its value, the text after its closing quote and that quote's line.
        """
        quote = text[0]
        line, start, j = text, 1, i
        chunks: list[str] = []
        while True:
            close = closing_quote(line, start, quote)
            if close >= 0:
                chunks.append(quoted_piece(line[start:close], quote))
                return "".join(chunks), line[close + 1 :], j
            piece = line[start:].rstrip(" \t")
            joined = False
            if quote == '"' and piece.endswith("\\"):
                run = len(piece) - len(piece.rstrip("\\"))
                if run % 2 == 1 and piece == line[start:]:
                    piece, joined = piece[:-1], True  # an escaped line break
                elif run % 2 == 1:
                    raise Declined  # escaped white space before the break
            chunks.append(quoted_piece(piece, quote))
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
        chomp, increment = literal_header(header)
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
        return chomped(lines, chomp), j


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
    if reader.indent[i] != 0 or not (is_entry(body) or ": " in body or body[-1] == ":"):
        raise Declined  # a scalar document, a flow collection, a directive
    value, j = reader.collection(i, 1)
    if reader.content(j) != reader.end:
        raise Declined
    return value
