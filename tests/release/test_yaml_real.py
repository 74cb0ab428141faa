"""The block reader on real files: every YAML file of the shared releases and their renders.

`infra.safe_yaml.load_all` reads block-style documents itself (`infra.block_yaml`) and
everything else with libyaml; both must give libyaml's values, and the renders (the
plan's hot path) must be read by the block reader whole.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import safe_yaml
from infra.safe_yaml import MANIFESTS, UnsafeDocumentError, load_all
from tests.release.rendered import render_example_text
from tests.strict import same

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("release", ["v1.10.2", "26.03"])
def test_the_example_render_is_read_whole_by_the_block_reader(
    release: str, shared_releases: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = render_example_text(shared_releases[release])
    expected = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d]

    def declined(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a document of the render went to libyaml")

    monkeypatch.setattr(safe_yaml, "_load_all_libyaml", declined)
    assert len(expected) > 500
    assert same([d for d in load_all(text, source="t", limits=MANIFESTS) if d], expected)


def test_every_yaml_file_of_the_shared_releases_reads_as_pyyaml_reads_it(
    shared_releases: dict[str, Path],
) -> None:
    taken = 0
    for root in shared_releases.values():
        for path in sorted(root.parent.rglob("*.y*ml")):
            text = path.read_bytes()
            try:
                expected: Any = safe_yaml._load_all_libyaml(text, source="t", limits=MANIFESTS)
            except UnsafeDocumentError:
                with pytest.raises(UnsafeDocumentError):
                    load_all(text, source="t", limits=MANIFESTS)
                continue
            assert same(load_all(text, source="t", limits=MANIFESTS), expected), path
            taken += 1
    assert taken > 1000


_EDITS = [" ", "  ", "- ", "# c", " #", ": ", ":", "'", '"', "|", "|-", "\\", "\t", "x", "\n"]


def _mutated(text: str, rng: random.Random) -> str:
    """`text` with one to three random edits: a snippet put in, a character cut, a line
    repeated or re-indented (most results are not valid YAML)."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        line, op = lines[i], rng.random()
        if op < 0.4:
            j = rng.randint(0, len(line))
            lines[i] = line[:j] + rng.choice(_EDITS) + line[j:]
        elif op < 0.6 and line:
            j = rng.randrange(len(line))
            lines[i] = line[:j] + line[j + 1 :]
        elif op < 0.8:
            lines.insert(i, lines[rng.randrange(len(lines))])
        else:
            lines[i] = " " * rng.randint(0, 6) + line.lstrip(" ")
    return "\n".join(lines)


def test_edited_files_read_or_fail_as_libyaml_reads_them(shared_releases: dict[str, Path]) -> None:
    """The block reader never accepts what libyaml refuses, nor reads it otherwise."""
    rng = random.Random(7)
    files = sorted(p for p in shared_releases["26.03"].rglob("*.yaml") if p.stat().st_size < 8000)
    refused = 0
    for _ in range(3000):
        text = _mutated(rng.choice(files).read_text(), rng)
        try:
            expected: Any = safe_yaml._load_all_libyaml(text, source="t", limits=MANIFESTS)
        except UnsafeDocumentError:
            refused += 1
            with pytest.raises(UnsafeDocumentError):
                load_all(text, source="t", limits=MANIFESTS)
            continue
        assert same(load_all(text, source="t", limits=MANIFESTS), expected), text
    assert 300 < refused < 2700  # both kinds of input were tried
