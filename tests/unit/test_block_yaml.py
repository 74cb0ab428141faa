"""The block-style reader gives exactly what PyYAML's safe loader gives, or declines.

The reference is libyaml's loader (`yaml.CSafeLoader`), the one `load_all` used alone
before; tests/release/test_yaml_real.py compares the two on the shared releases.
"""

from __future__ import annotations

import random
import string
from typing import Any

import pytest
import yaml

from infra import block_yaml, safe_yaml
from infra.safe_yaml import Limits, UnsafeDocumentError, load_all
from tests.strict import same


def read_by_block_reader(text: str) -> list[Any]:
    """The documents of `text` as the block reader alone reads them (raises Declined)."""
    return [
        block_yaml.read_document(lines, max_depth=64, max_nodes=10**6, open_end=open_end)
        for lines, open_end in block_yaml.documents(text)
    ]


# Documents the block reader must take itself, each with what it exercises.
TAKEN = {
    "scalars": "a: 1\nb: 0x1F\nc: 017\nd: 1_000\ne: 1.5e3\nf: .inf\ng: yes\nh: off\ni: ~\n"
    "j: 2001-12-14t21:59:43.10-05:00\nk: 2002-12-14\nl: '1'\nm: \"on\"\nn: 190:20:30\n"
    "o: null\np:\nq: -1\nr: --flag\ns: http://x/#frag\nt: a#b\nu: :x\nv: 0o17\n",
    "keys": "1: int\ntrue: bool\n~: null\n1.5: float\n2002-12-14: date\na: 1\na: 2\n'q k': 3\n"
    '"d\\tk": 4\n-k: 5\n',
    "comments": "# head\na: 1 # tail\nb: 'x' # after quote\n  # indented comment\nc:\n"
    '  # before the value\n  - 1 # item\n\n# between\nd: "y"#tight\n',
    "sequences": "a:\n- 1\n- b: 2\n  c:\n  - x\n  d: 3\n-\n  - nested\ne:\n  - deeper\n"
    "f:\n- {}\n- []\n- ''\n-\n",
    "plain folded": "a: one two  \n  three\n\n  four\n\n\n    five\nb: dash\n  - in the text\n"
    "c:\n- item\n  continued # here\n",
    "single quoted": "a: 'it''s'\nb: 'line one\n  line two\n\n  after a blank'\nc: '  lead '\n"
    "d: 'trailing   \n   next'\n",
    "double quoted": 'a: "t\\tab \\x41 \\u00e9 \\U0001F600 \\" \\\\ \\/ \\N \\_"\n'
    'b: "folded\n  on two lines"\nc: "joined\\\n   here"\nd: "kept\\\n\n  break"\n'
    'e: "end \\\\"\nf: "a\\\\\\"b"\n',
    "literal": "a: |\n  one\n   two\n\n  three\n\n\nb: |-\n  stripped\n\nc: |+\n  kept\n\n\n"
    "d: |2\n     indented first\n  then\ne: |-2\n    x\nf: |\ng: |+\n\nh: z\n",
    "literal in sequence": "- |\n  item text\n- key: |-\n    mapped\n  other: 1\n",
    "stream": "a: 1\n---\n---\n- 1\n---\n# only a comment\n---\nb: 2\n",
    "spaces-only line in literal": "a: |\n  x\n     \n  y\n",
    "marker first": "---\na: 1\n",
}

# Documents outside the subset: the block reader declines, libyaml reads them.
DECLINED = {
    "flow": "a: [1, 2]\n",
    "flow mapping": "a: {b: c}\n",
    "anchor": "a: &x 1\nb: *x\n",
    "merge": "base: {x: 1}\nd:\n  <<: {y: 2}\n",
    "tag": "a: !!str 12\n",
    "folded": "a: >\n  text\n",
    "complex key": "? a\n: b\n",
    "tab": "a:\tb\n",
    "directive": "%YAML 1.1\n---\na: 1\n",
    "document end": "a: 1\n...\n",
    "scalar document": "just text\n",
    "literal comment": "a: | # note\n  x\n",
    "short spaces-only line in literal": "a: |\n  x\n \n  y\n",
    "no final break after a literal": "a: |\n  text",
    "compact nested sequence": "- - a\n  - b\n",
    "value after quote": "a: 'x' y\n",
    "carriage return": "a: 1\r\nb: 2\r\n",
    "next line character": "a: one\x85  two\n",
    "line separator": "a: 'one\u2028two'\n",
    "long key": "k" * 1100 + ": 1\n",
}


@pytest.mark.parametrize("text", TAKEN.values(), ids=TAKEN.keys())
def test_taken_documents_read_as_pyyaml_reads_them(text: str) -> None:
    expected = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    assert same(read_by_block_reader(text), expected)
    assert same(load_all(text, source="t"), expected)


@pytest.mark.parametrize("text", DECLINED.values(), ids=DECLINED.keys())
def test_other_documents_are_declined_and_read_by_libyaml(text: str) -> None:
    with pytest.raises(block_yaml.Declined):
        read_by_block_reader(text)
    try:
        expected = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        with pytest.raises(UnsafeDocumentError):
            load_all(text, source="t")
        return
    assert same(load_all(text, source="t"), expected)


def test_a_declined_document_leaves_the_others_to_the_block_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libyaml_texts: list[object] = []
    real = safe_yaml._load_all_libyaml
    monkeypatch.setattr(
        safe_yaml,
        "_load_all_libyaml",
        lambda text, **kw: libyaml_texts.append(text) or real(text, **kw),
    )
    assert load_all("a: 1\n---\nb: [2]\n---\nc: 3\n", source="t") == [
        {"a": 1},
        {"b": [2]},
        {"c": 3},
    ]
    assert libyaml_texts == ["b: [2]\n"]


def test_an_error_names_its_line_in_the_whole_stream() -> None:
    with pytest.raises(UnsafeDocumentError, match="at line 5"):
        load_all("a: 1\n---\nb: [2]\nc: [\n", source="t")


def test_limits_hold_on_the_block_reader() -> None:
    deep = "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 30)) + "  " * 30 + "c: x\n"
    assert load_all(deep, source="t", limits=Limits(max_depth=40))
    with pytest.raises(UnsafeDocumentError, match="nested deeper than 10 levels"):
        load_all(deep, source="t", limits=Limits(max_depth=10))
    wide = "".join(f"k{i}: {i}\n" for i in range(200))
    with pytest.raises(UnsafeDocumentError, match="more than 100 nodes"):
        load_all(wide, source="t", limits=Limits(max_nodes=100))


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["str", "str", "str", "int", "float", "bool", "none", "map", "seq"])
    if depth > 3 and kind in ("map", "seq"):
        kind = "str"
    if kind == "map":
        return {
            _random_text(rng, 12): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))
        }
    if kind == "seq":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        "str": lambda: _random_text(rng, 90),
        "int": lambda: rng.randint(-(10**6), 10**6),
        "float": lambda: rng.uniform(-1e3, 1e3),
        "bool": lambda: rng.random() < 0.5,
        "none": lambda: None,
    }[kind]()


def _random_text(rng: random.Random, longest: int) -> str:
    pieces = [*string.ascii_letters, *string.digits, " ", " ", " ", "\n", ":", "#", "-", "'", '"']
    pieces += ["\\", "é", "yes", "on", "~", "0x", "1_0", ": ", " #", "\t", "- ", "2001-01-01"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, longest)))


def test_documents_pyyaml_writes_read_back_the_same() -> None:
    """PyYAML's emitter wraps long scalars and picks styles: a broad source of documents."""
    rng = random.Random(20261130)
    taken = 0
    for _ in range(400):
        value = {_random_text(rng, 8) or "k": _random_value(rng)}
        style = rng.choice([None, None, "'", '"', "|"])
        text = yaml.safe_dump(value, default_style=style, width=rng.choice([20, 40, 80]))
        expected = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        assert same(load_all(text, source="t"), expected), text
        try:
            assert same(read_by_block_reader(text), expected), text
            taken += 1
        except block_yaml.Declined:
            pass
    assert taken > 100  # the block reader itself was tested, not only its fallback
