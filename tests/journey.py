"""The README's "The whole journey", read as the commands a person pastes.

Every fenced `sh` block of that section is split into commands (backslash continuations
joined, comments and a trailing `&` dropped) and each command into words with `shlex`.
Tests check them against the real CLI and against the release's profile controller.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

SECTION = "## The whole journey"
FENCE = re.compile(r"^ *```sh\n(.*?)^ *```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Command:
    """One command of the journey: its words and the line it came from."""

    words: tuple[str, ...]
    line: str

    def flag(self, name: str) -> str | None:
        """The value of `--name VALUE` (the last one given), if any."""
        found = None
        for i, word in enumerate(self.words[:-1]):
            if word == name:
                found = self.words[i + 1]
        return found

    def redirect(self) -> str | None:
        """The file of `> FILE`, if the command writes one."""
        return self.flag(">")

    @property
    def kfstack_argv(self) -> list[str] | None:
        """The arguments after `uv run kfstack`, or None for another command."""
        words = list(self.words)
        if words[:3] != ["uv", "run", "kfstack"]:
            return None
        argv = words[3:]
        return argv[: argv.index(">")] if ">" in argv else argv


def section(readme: Path = REPO / "README.md") -> str:
    """The text of the journey section."""
    text = readme.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else len(text)]


def _lines(block: str) -> Iterator[str]:
    pending = ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield (pending + line).strip()
        pending = ""


def commands(text: str | None = None) -> list[Command]:
    """The journey's commands, in order."""
    found = []
    for block in FENCE.findall(text if text is not None else section()):
        for line in _lines(block):
            words = shlex.split(line, comments=True)
            if words and words[-1] == "&":
                words = words[:-1]
            if words:
                found.append(Command(tuple(words), line))
    return found
