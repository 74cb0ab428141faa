"""ml.model.network: accuracy on a known rule, export/reload parity, versions, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ml.data import DatasetSpec, build_dataset
from ml.model import (
    TrainConfig,
    TrainResult,
    classification_metrics,
    evaluate,
    predict_rows,
    regression_metrics,
    roc_auc,
    train,
)
from tests.ml.conftest import HEADER, classification_rows, write_rows

SPEC = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))
FAST = TrainConfig(epochs=12, batch_size=128, learning_rate=3e-3, patience=3, seed=0)


@pytest.fixture(scope="session")
def people_dataset(people_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("people_ds")
    build_dataset(people_csv, SPEC, out)
    return out


@pytest.fixture(scope="session")
def trained(people_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """One model trained on the people CSV, shared by the tests of this module."""
    return train(people_dataset, tmp_path_factory.mktemp("models"), config=FAST)


@pytest.mark.slow
def test_reaches_accuracy_and_writes_metrics(trained: TrainResult) -> None:
    assert trained.version == 1
    assert trained.metrics["accuracy"] >= 0.85
    assert trained.metrics["auc"] >= 0.9
    assert (trained.export_dir / "saved_model.pb").is_file()
    record = json.loads((trained.export_dir / "assets.extra" / "metrics.json").read_text())
    assert record["metrics"] == trained.metrics
    assert len(trained.history["loss"]) <= FAST.epochs


RAW_ROWS = [
    {"age": 30.0, "income (k)": 80.0, "city": "paris"},
    {"age": 55.0, "income (k)": 20.0, "city": "lyon"},
    {"age": 41.0, "income (k)": 50.0, "city": "berlin"},  # never seen in training
    {"age": None, "income (k)": 65.0, "city": "nice"},  # missing numeric value
    {"age": 35.0, "income (k)": 45.0, "city": ""},  # missing category
]


@pytest.mark.slow
def test_reloaded_savedmodel_matches_keras_model(trained: TrainResult) -> None:
    import tensorflow as tf

    inputs = {
        "age": tf.constant(
            [np.nan if r["age"] is None else r["age"] for r in RAW_ROWS], tf.float32
        ),
        "income_k": tf.constant([r["income (k)"] for r in RAW_ROWS], tf.float32),
        "city": tf.constant([r["city"] for r in RAW_ROWS]),
    }
    keras_out = trained.model(inputs).numpy()
    serving = tf.saved_model.load(str(trained.export_dir)).signatures["serving_default"]
    assert set(serving.structured_input_signature[1]) == {"age", "income_k", "city"}
    as_float64 = {
        k: tf.cast(v, tf.float64) if v.dtype == tf.float32 else v for k, v in inputs.items()
    }
    outputs = serving(**as_float64)
    assert set(outputs) == {"label", "probabilities", "classes"}
    saved_out = outputs["probabilities"].numpy()
    np.testing.assert_allclose(saved_out, keras_out, rtol=1e-5, atol=1e-6)
    assert outputs["classes"].numpy()[0].tolist() == [b"no", b"yes"]
    assert [v.decode() for v in outputs["label"].numpy()[:2]] == ["yes", "no"]
    assert np.isfinite(saved_out).all()
    rows = predict_rows(trained.export_dir, RAW_ROWS)
    np.testing.assert_allclose(
        [r["probabilities"]["yes"] for r in rows], keras_out[:, 1], rtol=1e-5, atol=1e-6
    )
    assert rows[0]["label"] == "yes" and rows[1]["label"] == "no"


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32])
def test_any_numeric_dtype_is_accepted(trained: TrainResult, dtype: type) -> None:
    from ml.model import predict_columns

    columns = {
        "age": np.array([30, 55], dtype=dtype),
        "income_k": np.array([80, 20], dtype=dtype),
        "city": np.array(["paris", "lyon"], dtype=object),
    }
    proba = predict_columns(trained.export_dir, columns)
    assert proba.shape == (2, 2) and proba[0, 1] > 0.5 > proba[1, 1]


@pytest.mark.slow
def test_float64_tensors_go_straight_into_the_signature(trained: TrainResult) -> None:
    import tensorflow as tf

    serving = tf.saved_model.load(str(trained.export_dir)).signatures["serving_default"]
    out = serving(
        age=tf.constant([30.0, np.nan], tf.float64),
        income_k=tf.constant([80.0, 20.0], tf.float64),
        city=tf.constant(["paris", ""]),
    )
    assert out["probabilities"].shape == (2, 2)


@pytest.mark.slow
def test_failed_evaluation_leaves_no_version_directory(
    people_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.model.network

    def broken(*args: object, **kwargs: object) -> dict[str, float]:
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(ml.model.network, "evaluate", broken)
    (tmp_path / "models").mkdir()
    with pytest.raises(RuntimeError, match="evaluation failed"):
        train(people_dataset, tmp_path / "models", config=TrainConfig(epochs=1))
    assert list((tmp_path / "models").iterdir()) == []  # no version, no partial directory


@pytest.mark.slow
def test_500_classes_train_and_export(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [[float(i % 500) + rng.normal(0, 0.1), f"c{i % 500:03d}"] for i in range(500 * 4)]
    csv = write_rows(tmp_path / "many.csv", ["x", "label"], rows)
    build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    result = train(tmp_path / "ds", tmp_path / "models", config=TrainConfig(epochs=2))
    assert result.metrics["rows"] >= 500  # every class in the test split
    record = json.loads((result.export_dir / "assets.extra" / "metrics.json").read_text())
    assert set(record["metrics"]) == {"accuracy", "auc", "loss", "rows"}


@pytest.mark.slow
def test_missing_value_filled_like_the_dataset(trained: TrainResult, people_dataset: Path) -> None:
    from ml.data import read_schema

    median = next(c.fill for c in read_schema(people_dataset).features if c.key == "age")
    row = {"income (k)": 65.0, "city": "nice"}
    missing, filled = predict_rows(trained.export_dir, [row | {"age": None}, row | {"age": median}])
    assert missing["probabilities"]["yes"] == pytest.approx(
        filled["probabilities"]["yes"], abs=1e-6
    )


@pytest.mark.slow
def test_evaluate_and_versions(trained: TrainResult, people_dataset: Path) -> None:
    assert evaluate(trained.export_dir, people_dataset) == pytest.approx(trained.metrics)
    root = trained.export_dir.parent
    with pytest.raises(FileExistsError, match="never overwritten"):
        train(people_dataset, root, version=1, config=FAST)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_other_tasks_train_and_export(task: str, tmp_path: Path) -> None:
    rows = classification_rows(600, seed=1, classes=3)
    if task == "regression":
        rows = [[*r[:4], round(float(r[2]) * 0.5 + 3, 3)] for r in rows]
    csv = write_rows(tmp_path / "d.csv", HEADER, rows)
    build_dataset(csv, SPEC, tmp_path / "ds")
    config = TrainConfig(epochs=3, seed=0)
    result = train(tmp_path / "ds", tmp_path / "models", version=7, config=config)
    assert result.export_dir == tmp_path / "models" / "7"
    keys = (
        {"mae", "rmse", "loss", "rows"}
        if task == "regression"
        else {"accuracy", "auc", "loss", "rows"}
    )
    assert set(result.metrics) == keys
    assert all(np.isfinite(v) for v in result.metrics.values())
    assert train(tmp_path / "ds", tmp_path / "models", config=config).version == 8


def test_metrics_against_hand_computed_values() -> None:
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    metrics = classification_metrics(np.array([0, 1, 1]), proba)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["loss"] == pytest.approx(-np.log([0.9, 0.8, 0.4]).mean())
    assert metrics["auc"] == 1.0
    reg = regression_metrics(np.array([1.0, 2.0]), np.array([[2.0], [4.0]]))
    assert reg["mae"] == 1.5 and reg["rmse"] == pytest.approx(np.sqrt(2.5))
