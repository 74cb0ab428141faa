"""The whole pipeline under kfp.local (SubprocessRunner, no venv): one promoted run shared by
the tests, and a run against a better serving model that the gate must stop."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ml.pipelines.local import LocalRun, PipelineFailedError, run_local
from ml.release import load_release, write_release
from tests.ml.conftest import HEADER, classification_rows, write_rows

PARAMS = {
    "column_kinds": {"row id": "ignore", "city": "categorical"},
    "epochs": 2,
    "batch_size": 64,
    "learning_rate": 0.01,
    "metric": "accuracy",
    "threshold": "0.6",
}
Main = Callable[[list[str]], int]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pipeline")


@pytest.fixture(scope="module")
def csv(workdir: Path) -> Path:
    return write_rows(workdir / "People Data.csv", HEADER, classification_rows(800, seed=3))


@pytest.fixture(scope="module")
def promoted(csv: Path, workdir: Path) -> LocalRun:
    return run_local(
        csv, "label", workdir / "run1", echo=False, cache_root=workdir / "cache", **PARAMS
    )


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
        age=tf.constant([70.0, 20.0, np.nan], tf.float32),
        income_k=tf.constant([120.0, 10.0, 50.0], tf.float32),
        city=tf.constant(["paris", "lyon", ""]),
    )
    proba = next(iter(out.values())).numpy()
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
    run = run_local(
        csv,
        "label",
        out,
        serving_release=serving_file,
        echo=False,
        cache_root=workdir / "cache",
        **PARAMS,
    )
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
        run_local(
            bad, "label", workdir / "bad", echo=False, column_kinds={"age": "numeric"}, epochs=1
        )
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
