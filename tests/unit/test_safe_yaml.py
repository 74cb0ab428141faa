"""The one-walk YAML builder gives exactly what PyYAML's safe constructor gives.

These tests read through libyaml (`_load_all_libyaml`), the path every document the block
reader declines takes (tests/unit/test_block_yaml.py tests that reader).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra import safe_yaml
from infra.safe_yaml import MANIFESTS, Limits, UnsafeDocumentError, load_all

DOCUMENTS = {
    "types": "a: 1\nb: 0x1F\nc: 017\nd: 1_000\ne: 1.5e3\nf: .inf\ng: yes\nh: off\ni: ~\n"
    "j: 2001-12-14t21:59:43.10-05:00\nk: 2002-12-14\nl: '1'\nm: \"on\"\nn: 190:20:30\n",
    "keys": "1: int key\ntrue: bool key\n~: null key\n1.5: float key\na: 1\na: 2\n",
    "nested": "a:\n  - b: [1, 2, {c: d}]\n  - - x\n    - 'y'\n  - {}\n  - []\ne: |\n  text\n",
    "merge": "base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n",
    "aliases": "a: &x [1, 2]\nb: *x\nc: &s scalar\nd: *s\n",
    "tags": "a: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{k: v}]\nd: !!str 12\n",
    "date key": "2002-12-14: day\n",
    "collection key": "? [1, 2]\n: v\n",
    "stream": "a: 1\n---\n---\n- 1\n--- plain\n",
}


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_the_same_values_as_the_safe_constructor(text: str) -> None:
    try:
        expected = list(yaml.load_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        with pytest.raises(UnsafeDocumentError):
            load_all(text, source="t")
        assert "unhashable" in str(exc)  # the one document PyYAML itself refuses
        return
    assert load_all(text, source="t") == expected


@pytest.mark.parametrize("name", ["types", "keys", "nested"])
def test_plain_documents_take_the_one_walk(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def exact(*_args: object) -> None:
        raise AssertionError("the exact path measured a plain document")

    monkeypatch.setattr(safe_yaml, "_measure", exact)
    assert safe_yaml._load_all_libyaml(DOCUMENTS[name], source="t", limits=Limits())


@pytest.mark.parametrize("name", ["merge", "aliases", "tags", "date key"])
def test_other_documents_take_the_exact_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[object] = []
    real = safe_yaml._measure
    monkeypatch.setattr(safe_yaml, "_measure", lambda *a: measured.append(real(*a)))
    safe_yaml._load_all_libyaml(DOCUMENTS[name], source="t", limits=Limits())
    assert measured


def test_limits_hold_on_the_one_walk() -> None:
    deep = "a:\n" + "".join("  " * i + "- \n" for i in range(1, 30)) + "  " * 30 + "x\n"
    with pytest.raises(UnsafeDocumentError, match="nested deeper than 10 levels"):
        load_all(deep, source="t", limits=Limits(max_depth=10))
    wide = "[" + ", ".join(str(i) for i in range(200)) + "]"
    with pytest.raises(UnsafeDocumentError, match="more than 100 nodes"):
        load_all(wide, source="t", limits=Limits(max_nodes=100))


def test_a_real_render_reads_as_pyyaml_reads_it(kubeflow_manifests: Path) -> None:
    text = b"".join(
        path.read_bytes() + b"\n---\n"
        for path in sorted((kubeflow_manifests / "common" / "istio").rglob("*.yaml"))
    )
    expected = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    assert load_all(text, source="t", limits=MANIFESTS) == expected
