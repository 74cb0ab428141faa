"""Each component's function called directly (`component.python_func`) on tmp-path artifacts,
and the pure core behind them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from kfp import dsl

from ml.components.compare import compare
from ml.components.core.chart import chart_html
from ml.components.core.comparison import (
    Serving,
    decide,
    parse_serving,
    parse_threshold,
)
from ml.components.core.evaluation import confusion_matrix, roc_curve
from ml.components.core.ingest import dataset_spec, spec_parameter
from ml.components.core.model_dir import version_dir
from ml.components.core.release import release_version, storage_uri_of
from ml.components.evaluate import evaluate
from ml.components.ingest_validate import ingest_validate
from ml.components.train import train
from ml.components.write_release import write_release
from ml.data import DataError, DatasetSpec
from ml.model_release import load_release
from tests.ml.conftest import HEADER, classification_rows, write_rows

SPEC = spec_parameter(DatasetSpec(label="label", ignore=("row id",), categorical=("city",)))


def artifact(cls: type[dsl.Artifact], path: Path, **metadata: object) -> dsl.Artifact:
    return cls(uri=str(path), metadata=dict(metadata))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dsl.Dataset:
    root = tmp_path_factory.mktemp("ingest")
    csv = write_rows(root / "people.csv", HEADER, classification_rows(600))
    out = artifact(dsl.Dataset, root / "dataset")
    ingest_validate.python_func(csv=artifact(dsl.Dataset, csv), dataset=out, spec=SPEC)
    return out  # type: ignore[return-value]


def test_ingest_validate_writes_the_dataset_and_metadata(built: dsl.Dataset) -> None:
    directory = Path(built.path)
    for name in ("train.csv", "validation.csv", "test.csv", "schema.json", "statistics.json"):
        assert (directory / name).is_file(), name
    assert built.metadata["task"] == "classification"
    assert built.metadata["classes"] == ["no", "yes"]
    assert built.metadata["features"] == ["age", "income_k", "city"]
    assert sum(built.metadata["rows"].values()) == 600


def test_ingest_validate_fails_with_the_data_error(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("age,label\n1,yes\nabc,no\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 3, column 'age': expected a number"):
        ingest_validate.python_func(
            csv=artifact(dsl.Dataset, csv),
            dataset=artifact(dsl.Dataset, tmp_path / "out"),
            spec={"label": "label", "numeric": ["age"]},
        )


def test_dataset_spec_parameter_round_trips_and_names_bad_fields() -> None:
    spec = DatasetSpec(label="y", numeric=("a",), ignore=("c",), task="regression")
    assert spec_parameter(spec) == {
        "label": "y",
        "numeric": ["a"],
        "ignore": ["c"],
        "task": "regression",
    }
    assert dataset_spec(spec_parameter(spec)) == spec
    with pytest.raises(ValueError, match=r"invalid dataset_spec: task: .*numbers: .*"):
        dataset_spec({"label": "y", "task": "ranking", "numbers": ["a"]})


@pytest.fixture(scope="module")
def trained(built: dsl.Dataset, tmp_path_factory: pytest.TempPathFactory) -> dsl.Model:
    model = artifact(dsl.Model, tmp_path_factory.mktemp("train") / "model")
    train.python_func(
        dataset=built, model=model, epochs=2, batch_size=64, learning_rate=0.01, serving_version=3
    )
    return model  # type: ignore[return-value]


@pytest.mark.slow
def test_train_exports_tf_serving_layout(trained: dsl.Model) -> None:
    export = Path(trained.path) / "3"
    assert (export / "saved_model.pb").is_file()
    assert (export / "assets.extra" / "schema.json").is_file()
    assert version_dir(trained.path) == export
    assert trained.metadata["framework"] == "tensorflow"
    assert trained.metadata["serving_version"] == 3


@pytest.mark.slow
def test_evaluate_logs_metrics_and_confusion_matrix(
    trained: dsl.Model, built: dsl.Dataset, tmp_path: Path
) -> None:
    metrics = artifact(dsl.Metrics, tmp_path / "metrics")
    classification = artifact(dsl.ClassificationMetrics, tmp_path / "classification")
    evaluate.python_func(
        model=trained, dataset=built, metrics=metrics, classification=classification
    )
    assert set(metrics.metadata) == {
        "accuracy",
        "auc",
        "loss",
        "rows",
        "baseline_accuracy",
        "baseline_auc",
        "baseline_loss",
    }
    assert metrics.metadata["accuracy"] > metrics.metadata["baseline_accuracy"]
    assert metrics.metadata["baseline_auc"] == 0.5
    record = json.loads(Path(metrics.path).read_text())
    assert record["metrics"] | {f"baseline_{k}": v for k, v in record["baseline"].items()} == (
        metrics.metadata | {"baseline_rows": record["baseline"]["rows"]}
    )
    matrix = classification.metadata["confusionMatrix"]
    assert [s["displayName"] for s in matrix["annotationSpecs"]] == ["no", "yes"]
    assert sum(sum(r["row"]) for r in matrix["rows"]) == metrics.metadata["rows"]
    assert len(classification.metadata["confidenceMetrics"]) == 51


def test_confusion_matrix_and_roc() -> None:
    label = np.array([0, 0, 1, 1, 1])
    assert confusion_matrix(label, np.array([0, 1, 1, 1, 0]), 2) == [[1, 1], [1, 2]]
    roc = roc_curve(label == 1, np.array([0.1, 0.6, 0.7, 0.9, 0.4]))
    assert roc["fpr"][0] == 0.0 and roc["tpr"][-1] == 1.0 and roc["fpr"][-1] == 1.0
    assert roc["tpr"] == sorted(roc["tpr"]) and roc["fpr"] == sorted(roc["fpr"])


def test_version_dir_needs_an_integer_directory(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    with pytest.raises(FileNotFoundError, match="no <version>/"):
        version_dir(tmp_path)
    (tmp_path / "2").mkdir()
    (tmp_path / "10").mkdir()
    assert version_dir(tmp_path).name == "10"


CANDIDATE = {"accuracy": 0.9, "auc": 0.95, "loss": 0.3, "rows": 100.0}


def run_compare(
    tmp_path: Path, built: dsl.Dataset, serving: str, **params: object
) -> tuple[bool, dict[str, str]]:
    chart = artifact(dsl.HTML, tmp_path / "chart.html")
    promote = compare.python_func(
        candidate=artifact(dsl.Metrics, tmp_path / "m", **CANDIDATE),
        dataset=built,
        chart=chart,
        better=str(tmp_path / "better"),
        meets_threshold=str(tmp_path / "meets"),
        serving_metrics=serving,
        **params,
    )
    files = {
        "better": (tmp_path / "better").read_text(),
        "meets": (tmp_path / "meets").read_text(),
        "chart": Path(chart.path).read_text(),
    }
    return promote, files


def test_compare_without_serving_model_promotes_above_threshold(
    tmp_path: Path, built: dsl.Dataset
) -> None:
    promote, files = run_compare(tmp_path, built, "", metric="accuracy", threshold="0.8")
    assert promote is True
    assert files["better"] == "true" and files["meets"] == "true"
    assert "data:image/png;base64,iVBOR" in files["chart"]
    assert "data-promote='true'" in files["chart"]


def test_compare_refuses_a_release_of_another_label(tmp_path: Path, built: dsl.Dataset) -> None:
    serving = json.dumps(
        {"name": "people", "version": "7", "label": "city", "metrics": {"accuracy": 0.5}}
    )
    promote, files = run_compare(tmp_path, built, serving, metric="accuracy")
    assert promote is False
    assert "is another model" in files["chart"] and "label &#x27;city&#x27;" in files["chart"]


def test_compare_keeps_a_better_serving_model(tmp_path: Path, built: dsl.Dataset) -> None:
    serving = json.dumps({"name": "people", "version": "7", "metrics": {"accuracy": 0.95}})
    promote, files = run_compare(tmp_path, built, serving, metric="accuracy", threshold="0.8")
    assert promote is False
    assert files["better"] == "false" and files["meets"] == "true"
    assert "serving people v7" in files["chart"]
    assert "do not promote" in files["chart"]


def test_compare_below_threshold_is_not_promoted(tmp_path: Path, built: dsl.Dataset) -> None:
    promote, files = run_compare(tmp_path, built, '{"loss": 0.5}', metric="loss", threshold="0.2")
    assert promote is False
    assert files["better"] == "true" and files["meets"] == "false"


def test_decide_directions_ties_and_errors() -> None:
    tie = decide(CANDIDATE, Serving("s", {"auc": 0.95}), metric="auc")
    assert tie.promote and tie.direction == "maximize"
    lower = decide(CANDIDATE, Serving("s", {"loss": 0.2}), metric="loss")
    assert lower.direction == "minimize" and not lower.better
    assert (
        decide(CANDIDATE, None, metric="rows", direction="minimize", threshold=50).meets_threshold
        is False
    )
    nan = decide({"auc": math.nan}, None, metric="auc")
    assert not nan.promote
    with pytest.raises(ValueError, match=r"metric 'f1' not in the candidate's metrics"):
        decide(CANDIDATE, None, metric="f1")
    with pytest.raises(ValueError, match="direction must be"):
        decide(CANDIDATE, None, metric="auc", direction="up")


def test_parse_threshold() -> None:
    assert parse_threshold("") is None and parse_threshold("0.25") == 0.25
    for bad in ("high", "nan"):
        with pytest.raises(ValueError, match="threshold must be"):
            parse_threshold(bad)


def test_parse_serving_errors() -> None:
    assert parse_serving("  ") is None
    with pytest.raises(ValueError, match="not JSON"):
        parse_serving("{nope")
    with pytest.raises(ValueError, match="not numbers: auc"):
        parse_serving('{"auc": "high"}')


def test_chart_html_escapes_labels() -> None:
    decision = decide(CANDIDATE, None, metric="auc")
    page = chart_html(CANDIDATE, Serving("<b>x</b>", {"auc": 0.5}), decision)
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_chart_has_one_panel_per_metric_and_no_baseline_bars() -> None:
    import struct

    from ml.components.core.chart import bar_chart_png, charted

    metrics = {**CANDIDATE, "baseline_accuracy": 0.5, "baseline_loss": 0.69}
    assert charted(metrics) == ["accuracy", "auc", "loss"]
    png = bar_chart_png(metrics, Serving("serving people v7 (2026-11-28)", {"loss": 0.2}), "t")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (780, 340)  # three panels of 2.6 x 3.4 inches at 100 dpi


def test_storage_uri_and_version() -> None:
    assert storage_uri_of("minio://mlpipeline/v2/artifacts/run/train/model") == (
        "s3://mlpipeline/v2/artifacts/run/train/model"
    )
    assert storage_uri_of("gs://b/p/model/") == "gs://b/p/model"
    with pytest.raises(ValueError, match="give storage_uri"):
        storage_uri_of("/tmp/model")
    assert release_version("", "1f0c-uuid:x") == "1f0c-uuid-x"
    assert release_version("3", "run") == "3"


def test_write_release_writes_a_valid_record(built: dsl.Dataset, tmp_path: Path) -> None:
    (tmp_path / "minio" / "model" / "2").mkdir(parents=True)
    model = dsl.Model(uri="minio://bucket/run/train/model")
    model.set_path(str(tmp_path / "minio" / "model"))  # where the artifact is mounted
    release = artifact(dsl.Artifact, tmp_path / "release.json")
    write_release.python_func(
        model=model,
        metrics=artifact(
            dsl.Metrics, tmp_path / "m", accuracy=0.9, auc=float("nan"), baseline_accuracy=0.5
        ),
        dataset=built,
        release=release,
        name="people",
        run_id="6a1f-77",
        run_name="kfstack-training-xyz",
    )
    record = load_release(release.path)
    assert record.storage_uri == "s3://bucket/run/train/model"
    assert record.serving_version == 2 and record.version == "6a1f-77"
    assert record.metrics == {"accuracy": 0.9}  # NaN and the baseline's dropped
    assert [c.name for c in record.input_schema] == ["age", "income_k", "city"]
    assert [c.dtype for c in record.input_schema] == ["float64", "float64", "string"]
    assert (record.label, record.task, record.classes) == ("label", "classification", ("no", "yes"))
    assert record.pipeline_run is not None and record.pipeline_run.name == "kfstack-training-xyz"
    assert release.metadata["storage_uri"] == record.storage_uri


def test_write_release_rejects_a_bad_name(built: dsl.Dataset, tmp_path: Path) -> None:
    (tmp_path / "model" / "1").mkdir(parents=True)
    with pytest.raises(ValueError, match="name"):
        write_release.python_func(
            model=artifact(dsl.Model, tmp_path / "model"),
            metrics=artifact(dsl.Metrics, tmp_path / "m", accuracy=0.9),
            dataset=built,
            release=artifact(dsl.Artifact, tmp_path / "release.json"),
            name="Not_A_DNS_Name",
            storage_uri="s3://b/m",
        )
    assert not (tmp_path / "release.json").exists()
