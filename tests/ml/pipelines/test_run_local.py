"""The whole pipeline under kfp.local (SubprocessRunner, no venv): one promoted run shared by
the tests, and a run against a better serving model that the gate must stop."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kfstack.cli.pipeline_params import Gate, pipeline_arguments
from ml.data import DatasetSpec
from ml.model import TrainConfig
from ml.model_release import load_release, write_release
from ml.pipelines.local import LocalRun, PipelineFailedError, run_local
from tests.ml.conftest import HEADER, classification_rows, write_rows

PARAMS = pipeline_arguments(
    DatasetSpec(label="label", ignore=("row id",), categorical=("city",)),
    TrainConfig(epochs=2, batch_size=64, learning_rate=0.01),
    Gate(metric="accuracy", threshold=0.6),
)
Main = Callable[[list[str]], int]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipeline")


@pytest.fixture(scope="module")
def csv(workdir: Path) -> Path:
    return write_rows(workdir / "People Data.csv", HEADER, classification_rows(800, seed=3))


@pytest.fixture(scope="module")
def promoted(csv: Path, workdir: Path) -> LocalRun:
    return run_local(csv, workdir / "run1", PARAMS, cache_root=workdir / "cache")


@pytest.mark.slow
def test_run_leaves_model_metrics_chart_and_release(promoted: LocalRun) -> None:
    assert promoted.promoted
    assert (promoted.model / "1" / "saved_model.pb").is_file()
    metrics = json.loads(promoted.metrics.read_text())["metrics"]
    assert metrics["accuracy"] >= 0.6 and metrics["rows"] == 80
    page = promoted.chart.read_text()
    assert "data:image/png;base64," in page and "data-promote='true'" in page
    assert promoted.release is not None
    release = load_release(promoted.release)
    assert release.name == "people-data"
    assert release.serving_version == 1
    assert release.storage_uri == promoted.model.as_uri() and release.is_local
    assert release.metrics["accuracy"] == pytest.approx(metrics["accuracy"])
    assert [c.name for c in release.input_schema] == ["age", "income_k", "city"]
    assert release.pipeline_run is not None
    assert release.pipeline_run.name is not None
    assert release.pipeline_run.name.startswith("kfstack-training-")


@pytest.mark.slow
def test_exported_model_predicts_raw_columns(promoted: LocalRun) -> None:
    import tensorflow as tf

    serving = tf.saved_model.load(str(promoted.model / "1")).signatures["serving_default"]
    out = serving(
        age=tf.constant([70.0, 20.0, np.nan], tf.float64),
        income_k=tf.constant([120.0, 10.0, 50.0], tf.float64),
        city=tf.constant(["paris", "lyon", ""]),
    )
    proba = out["probabilities"].numpy()
    assert [v.decode() for v in out["label"].numpy()[:2]] == ["yes", "no"]
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert proba[0, 1] > 0.5 > proba[1, 1]  # classes ["no", "yes"]: old and rich -> yes


@pytest.mark.slow
def test_gate_stops_a_candidate_worse_than_serving(
    promoted: LocalRun, csv: Path, workdir: Path
) -> None:
    assert promoted.release is not None
    serving = load_release(promoted.release).model_copy(
        update={"metrics": {"accuracy": 0.999, "loss": 0.01}}
    )
    serving_file = write_release(serving, workdir / "serving.json")
    out = workdir / "run2"
    out.mkdir()
    (out / "release.json").write_text("{}")  # a stale record must not survive
    run = run_local(csv, out, PARAMS, serving_release=serving_file, cache_root=workdir / "cache")
    assert not run.promoted and run.release is None
    assert not (out / "release.json").exists()
    assert not (run.run_dir / "write-release").exists()
    assert "keep the serving model" in run.reason
    page = run.chart.read_text()
    assert "data-promote='false'" in page and "serving people-data" in page


@pytest.mark.slow
def test_bad_data_fails_the_ingest_task_with_its_message(workdir: Path) -> None:
    bad = write_rows(workdir / "bad.csv", ["age", "label"], [[1, "yes"], ["abc", "no"]])
    with pytest.raises(PipelineFailedError) as info:
        arguments = {"dataset_spec": {"label": "label", "numeric": ["age"]}, "epochs": 1}
        run_local(bad, workdir / "bad", arguments)
    assert info.value.task == "ingest-validate"
    assert "line 3, column 'age': expected a number, found 'abc'" in str(info.value)


@pytest.mark.slow
def test_cli_bad_data_exits_2(
    kfstack: Main, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_rows(workdir / "bad2.csv", ["age", "label"], [[1, "yes"], ["abc", "no"]])
    args = ["pipeline", "run-local", "--csv", str(bad), "--label", "label"]
    status = kfstack([*args, "--numeric", "age", "--out", str(workdir / "bad2"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert "pipeline task 'ingest-validate' failed" in err and "expected a number" in err
    assert not (workdir / "bad2").exists()  # a failed run leaves --out as it was


@pytest.mark.slow
def test_failed_run_leaves_out_unchanged(promoted: LocalRun, workdir: Path) -> None:
    before = sorted(p.relative_to(promoted.out) for p in promoted.out.rglob("*"))
    release = promoted.release.read_bytes() if promoted.release else b""
    bad = write_rows(workdir / "bad3.csv", ["age", "label"], [[1, "yes"], ["abc", "no"]])
    with pytest.raises(PipelineFailedError):
        arguments = {"dataset_spec": {"label": "label", "numeric": ["age"]}}
        run_local(bad, promoted.out, arguments)
    assert sorted(p.relative_to(promoted.out) for p in promoted.out.rglob("*")) == before
    assert promoted.release is not None and promoted.release.read_bytes() == release


@pytest.mark.slow
def test_cli_semicolon_file_with_delimiter(
    kfstack: Main, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = classification_rows(300, seed=5)
    text = ";".join(HEADER) + "\n" + "\n".join(";".join(map(str, r)) for r in rows) + "\n"
    csv = workdir / "semi.csv"
    csv.write_text(text.replace("None", ""), encoding="utf-8")
    out = workdir / "semi"
    args = ["pipeline", "run-local", "--csv", str(csv), "--label", "label", "--out", str(out)]
    status = kfstack([*args, "--delimiter", ";", "--drop", "row id", "--epochs", "2"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert (out / "model" / "1" / "saved_model.pb").is_file()
    assert "[KFP Executor" not in captured.out  # executor logs only with --verbose
    assert "training" in captured.out and "done" in captured.out
    assert "decision:" in captured.out
