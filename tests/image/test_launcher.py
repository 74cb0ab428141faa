"""The driver and launcher double on the compiled pipeline (no image needed: part of `make test`).

What it must do is what kubeflow/pipelines `backend/src/v2` does (see launcher.py): these
tests pin each rule on the golden compiled pipeline with a runner that only records.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.image.launcher import (
    OUTPUT_METADATA_FILE,
    Finished,
    Run,
    Step,
    command_line,
    local_path,
    protojson,
    run_pipeline,
)

GOLDEN = (
    Path(__file__).resolve().parents[1] / "ml" / "pipelines" / "golden" / "training_pipeline.yaml"
)
ROOT = "minio://mlpipeline/private-artifacts/ns/v2/artifacts"
RUN = Run(ROOT, "kfstack-training", "run-7", "my run")
ARGUMENTS = {
    "csv_uri": "minio://mlpipeline/private/ns/data/people.csv",
    "dataset_spec": {"label": "label", "ignore": ["row id"]},
    "model_name": "people",
    "epochs": 2,
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    return data


def run(spec: dict[str, Any], *, promote: bool) -> list[Step]:
    ids = (f"u{i}" for i in itertools.count())

    def runner(step: Step) -> Finished:
        values = {"Output": promote} if step.task == "compare" else {}
        files = dict.fromkeys(step.executor_input["outputs"].get("parameters", {}), "true")
        metadata = {"artifacts": {"chart": {"artifacts": [{"metadata": {"reason": "ok"}}]}}}
        return Finished({"parameterValues": values, **metadata}, files)

    return run_pipeline(spec, ARGUMENTS, run=RUN, runner=runner, new_id=lambda: next(ids)).steps


def test_tasks_run_in_dependency_order_and_the_gate_decides(spec: dict[str, Any]) -> None:
    tasks = ["ingest-validate", "train", "evaluate", "compare"]
    assert [s.task for s in run(spec, promote=True)] == [*tasks, "write-release"]
    assert [s.task for s in run(spec, promote=False)] == tasks


def test_outputs_go_under_the_run_root_by_display_name(spec: dict[str, Any]) -> None:
    train = run(spec, promote=True)[1].executor_input
    (model,) = train["outputs"]["artifacts"]["model"]["artifacts"]
    assert model["uri"] == f"{ROOT}/kfstack-training/run-7/training/u1/model"
    assert model["type"] == {"schemaTitle": "system.Model", "schemaVersion": "0.0.1"}
    assert train["outputs"]["outputFile"] == OUTPUT_METADATA_FILE


def test_inputs_come_from_upstream_outputs_and_the_importer(spec: dict[str, Any]) -> None:
    ingest, train, *_, release = run(spec, promote=True)
    (csv,) = ingest.executor_input["inputs"]["artifacts"]["csv"]["artifacts"]
    assert csv["uri"] == ARGUMENTS["csv_uri"]
    produced = ingest.executor_input["outputs"]["artifacts"]["dataset"]["artifacts"][0]["uri"]
    assert train.executor_input["inputs"]["artifacts"]["dataset"]["artifacts"][0]["uri"] == produced
    values = release.executor_input["inputs"]["parameterValues"]
    assert (values["run_id"], values["run_name"], values["name"]) == ("run-7", "my run", "people")


def test_defaults_are_added_and_numbers_written_as_protojson(spec: dict[str, Any]) -> None:
    train = run(spec, promote=True)[1]
    values = train.executor_input["inputs"]["parameterValues"]
    assert values["epochs"] == 2 and values["learning_rate"] == 0.001  # given, then default
    assert values["serving_version"] == 1.0  # a default the spec holds as a float
    text = train.argv[train.argv.index("--executor_input") + 1]
    assert re.search(r'"serving_version":1[,}]', text) and '"learning_rate":0.001' in text
    assert json.loads(text) == train.executor_input


def test_command_and_arguments_are_the_specs_with_the_executor_input(spec: dict[str, Any]) -> None:
    container = spec["deploymentSpec"]["executors"]["exec-compare"]["container"]
    compare = run(spec, promote=True)[3]
    expected = [*container["command"], *container["args"]]
    at = expected.index("{{$}}")
    assert (
        list(compare.argv[:at]) + list(compare.argv[at + 1 :]) == expected[:at] + expected[at + 1 :]
    )
    assert compare.argv[at] == protojson(compare.executor_input)


def test_placeholders_other_than_the_executor_input() -> None:
    given = {
        "inputs": {
            "parameterValues": {"n": 3.0, "s": "x"},
            "artifacts": {"a": {"artifacts": [{"uri": "s3://b/k"}]}},
        },
        "outputs": {
            "artifacts": {"o": {"artifacts": [{"uri": "gs://b/o"}]}},
            "parameters": {"p": {"outputFile": "/tmp/kfp/outputs/p"}},
        },
    }
    container = {
        "command": ["run"],
        "args": [
            "{{$.inputs.parameters['n']}}",
            "{{$.inputs.parameters['s']}}",
            "{{$.inputs.artifacts['a'].path}}",
            "{{$.outputs.artifacts['o'].uri}}",
            "{{$.outputs.parameters['p'].output_file}}",
        ],
    }
    assert command_line(container, given) == (
        "run",
        "3",
        "x",
        "/s3/b/k",
        "gs://b/o",
        "/tmp/kfp/outputs/p",
    )


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("minio://mlpipeline/a/b", "/minio/mlpipeline/a/b"),
        ("s3://mlpipeline/a", "/s3/mlpipeline/a"),
        ("gs://bucket/x", "/gcs/bucket/x"),
    ],
)
def test_local_paths_are_the_launchers(uri: str, path: str) -> None:
    assert local_path(uri) == path


def test_an_unknown_scheme_has_no_local_path() -> None:
    with pytest.raises(ValueError, match="no local path"):
        local_path("file:///tmp/x")
