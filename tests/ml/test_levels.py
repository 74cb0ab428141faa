"""Numbers read by their levels too, where rows repeat: the statistics, the rules, the model.

Where rows repeat one entity's values (a shop over weeks, a person over years), the model
reads each frequent value of a number as a level (`ml.data.stats.numeric_levels`,
`reads_levels`) besides the normalized number, so a label that is not monotone in a code is
learnt and served from raw rows; `data build` counts such rows and notes them, `data inspect`
warns of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ml.data import DatasetSpec, build_dataset, inspect_csv
from ml.data.stats import (
    LEVELS_MIN_SHARE,
    MIN_VALUE_ROWS,
    REPEATED_VALUES_LIMIT,
    ROWS_REPEAT_SHARE,
    level_bounds,
    numeric_levels,
    reads_levels,
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


def test_a_value_takes_the_nearer_level() -> None:
    bounds = level_bounds([1.0, 2.0, 3.0, 5.0, 8.0])
    assert bounds == [1.5, 2.5, 4.0, 6.5]
    import keras

    # bucketed as the model does (a value on a bound belongs to the level above)
    values = np.array([[0.0], [1.0], [3.2], [3.9], [4.0], [4.9], [100.0]], np.float32)
    index = keras.layers.Discretization(bin_boundaries=bounds)(values)
    assert np.asarray(index).ravel().tolist() == [0, 0, 2, 2, 3, 3, 4]


def test_levels_only_where_validation_rows_repeat_train_rows() -> None:
    def stats(seen: int | None) -> dict[str, object]:
        counts = {} if seen is None else {"seen_in_train": {"validation": seen, "test": 0}}
        return {"rows": {"validation": 100}, **counts}

    share = int(ROWS_REPEAT_SHARE * 100)
    assert reads_levels(stats(share)) and not reads_levels(stats(share - 1))
    assert not reads_levels(stats(None))  # built before the count existed


def _shops_csv(path: Path, shops: int, weeks: int) -> tuple[Path, list[float]]:
    """A shop's code and floor area in every week's row; the week's reading is measured.

    Shop i has code i % 8 + 1; returns the file and the shops' areas.
    """
    rng = np.random.default_rng(0)
    area = rng.normal(300, 80, size=shops).round(1)
    rows = []
    for _ in range(weeks):
        for shop in range(shops):
            code = shop % len(CODES) + 1
            reading = round(float(rng.normal(50, 10)), 4)
            rows.append([code, float(area[shop]), reading, CODES[code]])
    return write_rows(path, ["code", "area", "reading", "label"], rows), [float(a) for a in area]


@pytest.mark.slow
def test_codes_are_learnt_by_their_levels_where_rows_repeat(tmp_path: Path) -> None:
    csv, areas = _shops_csv(tmp_path / "shops.csv", shops=72, weeks=10)
    built = build_dataset(csv, DatasetSpec(label="label", ignore=("reading",)), tmp_path / "ds")
    statistics = json.loads((tmp_path / "ds" / "statistics.json").read_text())
    assert reads_levels(statistics)
    train_rows = built.rows["train"]
    assert numeric_levels(statistics["columns"]["code"], train_rows) == [float(c) for c in CODES]
    assert len(numeric_levels(statistics["columns"]["area"], train_rows)) == 72

    result = train(tmp_path / "ds", tmp_path / "models", config=TrainConfig(members=1))
    names = {layer.name for layer in result.model.layers}
    # 8 levels one-hot; 72 (above ONE_HOT_LIMIT) as an embedding
    assert {"levels-code", "levels-area", "embed-levels-area"} <= names
    assert result.metrics["accuracy"] >= 0.95
    # a code between two levels takes the nearer one (the shop's area says the same code)
    rows = [{"code": c, "area": areas[round(c) - 1]} for c in (1.0, 2.0, 3.2, 4.9, 8.0)]
    labels = [p["label"] for p in predict_rows(result.export_dir, rows)]
    assert labels == [CODES[1], CODES[2], CODES[3], CODES[5], CODES[8]]


def test_rows_that_do_not_repeat_give_no_levels(tmp_path: Path) -> None:
    csv, _ = _shops_csv(tmp_path / "weeks.csv", shops=40, weeks=15)  # the reading differs per row
    build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    statistics = json.loads((tmp_path / "ds" / "statistics.json").read_text())
    assert statistics["seen_in_train"]["validation"] == 0
    assert not reads_levels(statistics)
    # the codes still repeat: it is the rows that decide
    assert numeric_levels(statistics["columns"]["code"], statistics["rows"]["train"])


def test_rows_repeating_train_rows_are_counted_and_noted() -> None:
    train = pa.table({"a": [1.0, 2.0, 2.0], "b": ["x", "y", "y"]})
    test = pa.table({"a": [2.0, 2.0, 3.0, 1.0], "b": ["y", "y", "y", "y"]})
    assert rows_seen_in_train(train, {"test": test}, ["a", "b"]) == {"test": 2}
    assert rows_seen_in_train(train, {"test": test}, ["a"]) == {"test": 3}
    stats = {"rows": {"test": 4}, "seen_in_train": {"test": 2}}
    note = seen_in_train_note(stats)
    assert note is not None and note.startswith("2 of 4 test rows (50%)")
    few = int(ROWS_REPEAT_SHARE * 100) - 1
    assert seen_in_train_note({"rows": {"test": 100}, "seen_in_train": {"test": few}}) is None
    assert seen_in_train_note({"rows": {"test": 4}}) is None  # built before the count existed


def test_inspect_warns_when_rows_repeat_other_rows(tmp_path: Path, people_csv: Path) -> None:
    csv, _ = _shops_csv(tmp_path / "shops.csv", shops=40, weeks=5)
    findings = inspect_csv(csv, label="label", delimiter=",").findings
    repeated = [f for f in findings if "feature values of another row" in f.problem]
    # the week's reading differs per row: no row repeats another
    assert not repeated
    plain = write_rows(
        tmp_path / "plain.csv",
        ["code", "area", "label"],
        [[i % 8 + 1, 100.0 + i % 40, CODES[i % 8 + 1]] for i in range(200)],
    )
    (finding,) = [f for f in inspect_csv(plain, label="label").findings if f.column is None]
    assert finding.problem.startswith("200 of 200 rows (100%) have exactly the feature values")
    assert "kfstack serve check --csv" in finding.fix
    assert "kfstack data build --group COL" in finding.fix
    assert not [f for f in inspect_csv(people_csv).findings if f.column is None]
