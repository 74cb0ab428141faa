"""A YAML stream split at its `---` markers into each document's lines."""

from __future__ import annotations

import re
from collections.abc import Iterator

from infra.block_yaml.scalars import Declined

__all__ = ["documents"]

# PyYAML's own test of the characters it accepts in a stream (yaml/reader.py), and the
# same for ASCII text (a simpler, faster pattern).
_ASCII_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A document marker line, and a line with content (not blank, not a comment).
_MARKER = re.compile(r"^(---|\.\.\.)(.*)$", re.MULTILINE)
_CONTENT = re.compile(r"^ *[^ #\n]", re.MULTILINE)
# Line breaks of YAML 1.1 other than a newline (PyYAML and libyaml break lines at each).
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


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
