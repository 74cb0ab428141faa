"""Right-skewed numbers read on a log scale: the rule, the layer, the model, the serving.

A column of values >= 0 with skewness above `SKEW_LIMIT` on train is read as
log(max(x, floor)) (`ml.data.stats.log_scale`), inside the model (`LogScale`), so the
exported signature still takes the raw number.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ml.data import DatasetSpec, build_dataset, read_statistics
from ml.data.stats import SKEW_LIMIT, log_scale
from ml.model import TrainConfig, predict_columns, predict_rows, train
from ml.model.layers import log_layer
from tests.ml.conftest import write_rows

#: Each class's values: three small ranges and one of large values, as stock prices are.
SCALES = {"a": (1.0, 2.0), "b": (2.5, 5.0), "c": (6.0, 12.0), "d": (200.0, 2000.0)}


def _skewed(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(mean=2.0, sigma=1.0, size=n)


def test_a_right_skewed_column_is_read_on_a_log_scale() -> None:
    values = _skewed(500)
    values[:5] = 0.0  # zeros are read a step of log 2 below the smallest positive value
    scale = log_scale(pa.chunked_array([values.tolist() + [None] * 7]))
    assert scale is not None and scale["skew"] > SKEW_LIMIT
    smallest = values[values > 0].min()
    assert scale["floor"] == pytest.approx(smallest / 2)
    logs = np.log(np.maximum(values, smallest / 2))  # the missing cells are left out
    assert scale["mean"] == pytest.approx(logs.mean())
    assert scale["std"] == pytest.approx(logs.std())


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(np.random.default_rng(0).normal(50, 10, 500), id="symmetric"),
        pytest.param(np.append(_skewed(500), -1.0), id="a-negative-value"),
        pytest.param(np.full(50, 7.0), id="a-single-value"),
        pytest.param(-_skewed(500), id="left-skewed"),
        pytest.param(np.array([1.0, 2.0]), id="too-few-values"),
    ],
)
def test_other_columns_are_read_linearly(values: np.ndarray) -> None:
    assert log_scale(pa.chunked_array([values.tolist()])) is None


def test_a_missing_only_column_is_read_linearly() -> None:
    assert log_scale(pa.chunked_array([[None, None, None]], pa.float64())) is None


def test_the_layer_logs_only_its_columns_and_never_gives_an_infinity() -> None:
    layer = log_layer()([None, 0.5], name="log-numeric")
    x = np.array([[-3.0, 4.0], [0.0, 0.0], [2.0, -7.0], [1.0, 0.5]], np.float32)
    out = np.asarray(layer(x))
    assert out[:, 0].tolist() == [-3.0, 0.0, 2.0, 1.0]  # a linear column passes unchanged
    assert out[:, 1] == pytest.approx([math.log(4.0)] + [math.log(0.5)] * 3)
    assert np.isfinite(out).all()
    again = type(layer).from_config(layer.get_config())
    assert np.asarray(again(x)) == pytest.approx(out)


def _scales_csv(path: Path, rows_per_class: int) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        [round(float(rng.uniform(low, high)), 3), round(float(rng.normal()), 3), label]
        for label, (low, high) in SCALES.items()
        for _ in range(rows_per_class)
    ]
    order = rng.permutation(len(rows))
    return write_rows(path, ["price", "noise", "label"], [rows[i] for i in order])


@pytest.mark.slow
def test_the_model_separates_small_values_beside_large_ones(tmp_path: Path) -> None:
    csv = _scales_csv(tmp_path / "scales.csv", rows_per_class=150)
    build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    statistics = read_statistics(tmp_path / "ds")
    assert statistics["columns"]["price"]["log"] is not None
    assert statistics["columns"]["noise"]["log"] is None  # negative values: linear

    result = train(tmp_path / "ds", tmp_path / "models", config=TrainConfig(members=1))
    assert "log-numeric" in {layer.name for layer in result.model.layers}
    # on the linear scale a, b and c lie within 0.02 std of one another
    assert result.metrics["accuracy"] >= 0.95
    # served from raw numbers: a zero or a negative price is read as the floor, not -inf
    rows = [{"price": p, "noise": 0.0} for p in (1.5, 3.5, 9.0, 900.0, 0.0, -4.0)]
    predictions = predict_rows(result.export_dir, rows)
    assert [p["label"] for p in predictions[:4]] == ["a", "b", "c", "d"]
    assert predictions[4]["label"] == predictions[5]["label"] == "a"
    assert np.isfinite(
        predict_columns(result.export_dir, {"price": np.array([0.0, -4.0]), "noise": np.zeros(2)})
    ).all()


def test_statistics_written_before_the_log_scale_read_linearly(tmp_path: Path) -> None:
    from ml.data import read_schema
    from ml.model.architecture import build_model

    csv = _scales_csv(tmp_path / "scales.csv", rows_per_class=20)
    build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    statistics = read_statistics(tmp_path / "ds")
    schema = read_schema(tmp_path / "ds")
    logged = build_model(schema, statistics, TrainConfig())
    assert "log-numeric" in {layer.name for layer in logged.layers}
    for column in statistics["columns"].values():
        column.pop("log", None)
    linear = build_model(schema, statistics, TrainConfig())
    assert "log-numeric" not in {layer.name for layer in linear.layers}
