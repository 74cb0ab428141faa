"""Any CSV header becomes a valid, stable, unique signature name; a failed train changes nothing."""

from __future__ import annotations

import keyword
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from ml.data import DatasetSpec, build_dataset, read_schema, sanitize_names
from ml.data.schema import MAX_KEY_LENGTH, LabelSchema, key_problem
from tests.ml.conftest import write_rows

Main = Callable[[list[str]], int]


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("lambda", "lambda_"),  # Python keywords
        ("class", "class_"),
        ("None", "None_"),
        ("self", "self_"),  # TensorFlow's signature wrapper takes `self`
        ("2nd value", "c_2nd_value"),  # digit first, a space
        ("petal width (cm)", "petal_width_cm"),
        ("naïve col", "naive_col"),  # accents dropped
        ("温度", "u6e29_u5ea6"),  # other scripts: code points
        ("(%)", "column"),  # nothing left
        ("_private", "private"),
    ],
)
def test_header_becomes_a_valid_key(header: str, key: str) -> None:
    assert sanitize_names([header]) == {header: key}
    assert key_problem(key) is None


def test_keys_are_unique_after_normalising_and_stable() -> None:
    header = ["a b", "a-b", "A_B", "a_b_2", "x" * 100, "x" * 100 + "y"]
    keys = sanitize_names(header)
    assert keys["a b"] == "a_b" and keys["a-b"] == "a_b_2" and keys["A_B"] == "A_B_3"
    assert keys["a_b_2"] == "a_b_2_2"
    assert len({k.lower() for k in keys.values()}) == len(header)
    assert all(len(k) <= MAX_KEY_LENGTH and key_problem(k) is None for k in keys.values())
    assert sanitize_names(header) == keys  # the same header, the same keys


@pytest.mark.parametrize("bad", ["class", "self", "2nd", "a b", "x" * (MAX_KEY_LENGTH + 1)])
def test_a_schema_with_an_invalid_key_is_refused(bad: str) -> None:
    assert key_problem(bad) is not None
    with pytest.raises(ValidationError, match="key"):
        LabelSchema(name="y", key=bad, task="regression")


def test_every_python_keyword_gets_a_valid_key() -> None:
    keys = sanitize_names(keyword.kwlist)
    assert all(key_problem(k) is None for k in keys.values())


def test_a_dropped_column_does_not_change_the_other_keys(tmp_path: Path) -> None:
    rows = [[i, i % 3, "ab"[i % 2]] for i in range(30)]
    csv = write_rows(tmp_path / "d.csv", ["a b", "a-b", "label"], rows)
    every = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "all")
    dropped = build_dataset(csv, DatasetSpec(label="label", ignore=("a b",)), tmp_path / "one")
    assert [c.key for c in every.schema.features] == ["a_b", "a_b_2"]
    assert [c.key for c in dropped.schema.features] == ["a_b_2"]


#: Headers that broke training or export before: keywords, `self`, digits first, non-ASCII,
#: duplicates after normalising, and names of the model's own layers and ops.
ODD_HEADER = ["lambda", "class", "self", "2nd value", "naïve", "温度", "a b", "a-b", "squeeze"]
ODD_HEADER += ["features", "stack", "when", "label"]


def _odd_rows(n: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(n):
        x = (i * 7919 % 100) / 100
        city = ("paris", "lyon", "nice")[i % 3]
        label = "yes" if x + (city == "paris") * 0.4 > 0.6 else "no"
        when = f"{1 + i % 28}.{1 + i % 12}.{2000 + i % 20}"  # DD.MM.YYYY: read as a date
        rows.append(
            [x, city, i % 5, i % 7, 1 - x, city, x * 2, i % 2, x / 2, i % 4, x, when, label]
        )
    return rows


@pytest.mark.slow
def test_odd_headers_build_train_export_and_serve(
    kfstack: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml.model import predict_rows

    csv = write_rows(tmp_path / "odd.csv", ODD_HEADER, _odd_rows(120))
    assert (
        kfstack(
            ["data", "build", "--csv", str(csv), "--label", "label", "--out", str(tmp_path / "ds")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "'class' -> class_" in out and "'温度' -> u6e29_u5ea6" in out
    train = ["train", "--data", str(tmp_path / "ds"), "--out", str(tmp_path / "m"), "--epochs", "2"]
    assert kfstack(train) == 0
    out = capsys.readouterr().out
    assert "signature inputs (header -> name): 'lambda' -> lambda_, 'class' -> class_" in out
    schema = read_schema(tmp_path / "m" / "1" / "assets.extra")  # the mapping, in the model
    assert {c.name: c.key for c in schema.features}["self"] == "self_"
    assert {c.name: c.date for c in schema.features}["when"] == "dmy-dot"
    row = dict(zip(ODD_HEADER[:-1], _odd_rows(1)[0][:-1], strict=True))
    (prediction,) = predict_rows(tmp_path / "m" / "1", [row])
    assert prediction["label"] in ("yes", "no")


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` (and its parent), with file contents."""
    base = root.parent
    return {
        str(p.relative_to(base)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(base.rglob("*"))
    }


@pytest.mark.slow
@pytest.mark.parametrize("existed", [False, True])
def test_a_train_failing_at_export_leaves_out_as_it_was(
    kfstack: Main,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    existed: bool,
) -> None:
    import ml.model.network

    csv = write_rows(tmp_path / "d.csv", ODD_HEADER, _odd_rows(60))
    build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    area = tmp_path / "area"
    area.mkdir()
    out = area / "models" / "iris"
    if existed:
        (out / "1").mkdir(parents=True)
        (out / "1" / "saved_model.pb").write_bytes(b"an earlier version")
        (out / "notes.txt").write_text("keep me")
    before = _snapshot(out)

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("disk full while exporting")

    monkeypatch.setattr(ml.model.network, "export", broken)
    train = ["train", "--data", str(tmp_path / "ds"), "--out", str(out), "--epochs", "1"]
    assert kfstack(train) == 2
    assert "disk full while exporting" in capsys.readouterr().err
    assert _snapshot(out) == before
    assert out.exists() == existed and (area / "models").exists() == existed
