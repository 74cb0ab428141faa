"""Numeric columns read by their levels too: `repeated` in statistics.json, the rule, the model.

A column of codes, counts or a person's constant values repeats its values; the model reads
each frequent value as a level (`ml.model.architecture.numeric_levels`) besides the normalized
number, so a label that is not monotone in the number is learnt and served from raw rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ml.data import DatasetSpec, build_dataset
from ml.data.stats import (
    LEVELS_MIN_SHARE,
    MIN_VALUE_ROWS,
    REPEATED_VALUES_LIMIT,
    SEEN_IN_TRAIN_NOTE,
    numeric_levels,
    repeated_values,
    rows_seen_in_train,
    seen_in_train_note,
)
from ml.model import TrainConfig, predict_rows, train
from tests.ml.conftest import write_rows

#: The label of each code: not monotone in the code, so a line through it cannot hold it.
CODES = {1: "a", 2: "b", 3: "a", 4: "a", 5: "b", 6: "b", 7: "a", 8: "b"}


def test_repeated_values_count_values_of_several_rows_most_frequent_first() -> None:
    column = pa.chunked_array([[0.1] * 3 + [2.0] * 4 + [5.0] * 2 + [None] * 3 + [7.5] * 3])
    assert repeated_values(column) == {"2.0": 4, "0.1": 3, "7.5": 3}
    # float32 text, as the model's float32 inputs hold the value
    assert list(repeated_values(pa.chunked_array([[0.30000001192] * 3]))) == ["0.3"]


def test_repeated_values_are_capped() -> None:
    column = pa.chunked_array([np.repeat(np.arange(REPEATED_VALUES_LIMIT + 10.0), 3)])
    assert len(repeated_values(column)) == REPEATED_VALUES_LIMIT


def test_levels_rule() -> None:
    rows = 100
    codes = {"10.0": 40, "2.0": 30, "3.0": 20}
    assert numeric_levels({"repeated": codes}, rows) == [2.0, 3.0, 10.0]  # as numbers
    # two levels are what the number already says
    assert numeric_levels({"repeated": {"0.0": 60, "1.0": 40}}, rows) == []
    # a measured quantity: some values repeat, most rows hold a value of their own
    share = int(LEVELS_MIN_SHARE * rows)
    measured = {"1.5": MIN_VALUE_ROWS, "2.5": MIN_VALUE_ROWS, "3.5": share - 2 * MIN_VALUE_ROWS - 1}
    assert numeric_levels({"repeated": measured}, rows) == []
    measured["3.5"] += 1
    assert numeric_levels({"repeated": measured}, rows) == [1.5, 2.5, 3.5]
    # statistics written before `repeated` existed
    assert numeric_levels({"mean": 1.0}, rows) == []


def _codes_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    code = rng.integers(1, 9, size=rows)
    size = rng.normal(10, 3, size=rows).round(4)  # a measured quantity: no levels
    table = [[int(c), float(s), CODES[int(c)]] for c, s in zip(code, size, strict=True)]
    return write_rows(path, ["code", "size", "label"], table)


@pytest.mark.slow
def test_codes_column_is_learnt_by_its_levels_and_served_from_raw_rows(tmp_path: Path) -> None:
    csv = _codes_csv(tmp_path / "codes.csv", 600)
    built = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds", seed=0)
    columns = json.loads((tmp_path / "ds" / "statistics.json").read_text())["columns"]
    train_rows = built.rows["train"]
    assert numeric_levels(columns["code"], train_rows) == [float(c) for c in CODES]
    assert numeric_levels(columns["size"], train_rows) == []

    result = train(tmp_path / "ds", tmp_path / "models", config=TrainConfig(members=1))
    names = {layer.name for layer in result.model.layers}
    assert "levels-code" in names and "levels-size" not in names
    assert result.metrics["accuracy"] >= 0.95
    # a value between two levels takes the nearer one; a missing one the column's fill
    rows = [{"code": c, "size": 10.0} for c in (1.0, 2.0, 3.2, 4.9, 8.0)]
    labels = [p["label"] for p in predict_rows(result.export_dir, rows)]
    assert labels == [CODES[1], CODES[2], CODES[3], CODES[5], CODES[8]]


def test_inspect_advice_reads_levels_as_the_model_does() -> None:
    from ml.data.advice import _encode

    codes = pa.chunked_array([[1, 2, 3, 8] * 10 + [None, 5]])
    encoded = _encode(codes, None)
    # standardized value, gap indicator, then one slot per level (5 is between 3 and 8: 3)
    assert encoded.shape == (42, 2 + 4)
    assert encoded[:4, 2:].tolist() == np.eye(4).tolist()
    assert encoded[-1, 2:].tolist() == [0, 0, 1, 0]
    measured = pa.chunked_array([np.linspace(0, 1, 42)])
    assert _encode(measured, None).shape == (42, 1)


def test_rows_repeating_train_rows_are_counted_and_noted() -> None:
    train = pa.table({"a": [1.0, 2.0, 2.0], "b": ["x", "y", "y"]})
    test = pa.table({"a": [2.0, 2.0, 3.0, 1.0], "b": ["y", "y", "y", "y"]})
    assert rows_seen_in_train(train, test, ["a", "b"]) == 2
    assert rows_seen_in_train(train, test, ["a"]) == 3
    stats = {"rows": {"test": 4}, "seen_in_train": {"test": 2}}
    note = seen_in_train_note(stats)
    assert note is not None and note.startswith("2 of 4 test rows (50%)")
    few = int(SEEN_IN_TRAIN_NOTE * 100) - 1
    assert seen_in_train_note({"rows": {"test": 100}, "seen_in_train": {"test": few}}) is None
    assert seen_in_train_note({"rows": {"test": 4}}) is None  # built before the count existed
