"""`kfstack pipeline run --host URL` against the loopback KFP v2beta1 double."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml.pipelines.image_lock import executor_images
from ml.pipelines.remote import coerce_parameters, kubeconfig_token, version_name
from tests.ml.remote.conftest import IMAGE
from tests.ml.remote.kfp_double import KfpDouble, check, run_state

Main = Callable[[list[str]], int]
DONE = {"data preparation": "SUCCEEDED", "training": "SUCCEEDED"}
STATES = [
    "RUNTIME_STATE_UNSPECIFIED",
    "PENDING",
    "RUNNING",
    "SUCCEEDED",
    "SKIPPED",
    "FAILED",
    "CANCELING",
    "CANCELED",
    "PAUSED",
]


def run_args(host: str, spec: Path, *extra: str) -> list[str]:
    return [
        "pipeline",
        "run",
        "--host",
        host,
        "--spec",
        str(spec),
        "--csv-uri",
        "minio://mlpipeline/data/people.csv",
        "--label",
        "label",
        "--name",
        "people",
        "--poll",
        "0",
        *extra,
    ]


def test_run_uploads_starts_and_follows_to_success(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.script = [
        run_state("RUNNING", {"data preparation": "RUNNING"}),
        run_state("RUNNING", {"data preparation": "SUCCEEDED", "training": "RUNNING"}),
        run_state("SUCCEEDED", DONE),
    ]
    assert kfstack(run_args(kfp.url, spec_file, "--param", "epochs=30")) == 0
    assert kfp.problems == []
    out = capsys.readouterr().out
    assert "pipeline version version-2 (uploaded)" in out
    assert "run RUNNING: data preparation RUNNING" in out
    assert "training RUNNING" in out and "run SUCCEEDED" in out
    assert "kfstack release fetch" in out
    (version,) = kfp.calls("POST", r"/apis/v2beta1/pipelines/[^/]+/versions")
    assert version is not None
    assert version["display_name"] == version_name("kfstack-training", version["pipeline_spec"])
    assert set(executor_images(version["pipeline_spec"]).values()) == {IMAGE}
    (run,) = kfp.calls("POST", r"/apis/v2beta1/runs")
    assert run is not None
    assert run["runtime_config"]["parameters"] == {
        "csv_uri": "minio://mlpipeline/data/people.csv",
        "dataset_spec": {"label": "label"},
        "model_name": "people",
        "epochs": 30,
    }
    assert kfp.experiments and next(iter(kfp.experiments.values()))["display_name"] == "kfstack"


def test_an_unchanged_spec_reuses_its_version(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.script = [run_state("SUCCEEDED", DONE)]
    assert kfstack(run_args(kfp.url, spec_file)) == 0
    kfp.script = [run_state("SUCCEEDED", DONE)]
    assert kfstack(run_args(kfp.url, spec_file)) == 0
    assert "(reused)" in capsys.readouterr().out
    assert len(kfp.calls("POST", r"/apis/v2beta1/pipelines")) == 1
    assert len(kfp.calls("POST", r"/apis/v2beta1/pipelines/[^/]+/versions")) == 1
    assert len(kfp.calls("POST", r"/apis/v2beta1/experiments")) == 1
    assert len(kfp.calls("POST", r"/apis/v2beta1/runs")) == 2
    assert kfp.problems == []


def test_a_failed_run_exits_1_with_its_reason(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.script = [
        run_state("RUNNING", {"training": "RUNNING"}),
        run_state("FAILED", {"training": "FAILED"}, error="task training: OOMKilled"),
    ]
    assert kfstack(run_args(kfp.url, spec_file)) == 1
    err = capsys.readouterr().err
    assert "FAILED: task training: OOMKilled (failed tasks: training)" in err
    assert "Traceback" not in err
    assert kfp.problems == []


def test_no_follow_returns_after_the_start(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(run_args(kfp.url, spec_file, "--no-follow")) == 0
    assert "run run-" in capsys.readouterr().out
    assert kfp.calls("GET", r"/apis/v2beta1/runs/.*") == []


def test_an_unreachable_host_is_a_clear_error(
    kfstack: Main, closed_port: str, spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(run_args(closed_port, spec_file)) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the KFP API at {closed_port}" in err and "--host" in err
    assert "Traceback" not in err


def test_a_refused_token_names_the_auth_options(
    kfstack: Main,
    kfp: KfpDouble,
    spec_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = tmp_path / "token"
    token.write_text("s3cr3t-token\n")
    kfp.status = 401
    assert kfstack(run_args(kfp.url, spec_file, "--token-file", str(token))) == 1
    assert "not authenticated: give --token-file or --kubeconfig" in capsys.readouterr().err
    assert kfp.requests[0][3] == "Bearer s3cr3t-token"
    assert kfp.problems == []


def test_the_token_path_env_is_read(
    kfstack: Main,
    kfp: KfpDouble,
    spec_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = tmp_path / "token"
    token.write_text("from-env")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token))
    kfp.script = [run_state("SUCCEEDED", DONE)]
    assert kfstack(run_args(kfp.url, spec_file)) == 0
    assert {auth for *_, auth in kfp.requests} == {"Bearer from-env"}


def test_kubeconfig_token(tmp_path: Path) -> None:
    config = {
        "current-context": "kind",
        "contexts": [{"name": "kind", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "abc"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    assert kubeconfig_token(path) == "abc"
    config["users"] = [{"name": "u", "user": {"client-certificate-data": "x"}}]
    path.write_text(yaml.safe_dump(config))
    assert kubeconfig_token(path) is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "epoch=3"], "unknown parameter 'epoch'"),
        (["--param", "epochs=many"], "epochs='many' is not a NUMBER_INTEGER"),
        (["--param", "dataset_spec=[1]"], "is not a STRUCT"),
        (["--param", "novalue"], "give KEY=VALUE"),
    ],
)
def test_bad_parameters_exit_2_before_any_call(  # noqa: PLR0917 (pytest fixtures)
    kfstack: Main,
    kfp: KfpDouble,
    spec_file: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    assert kfstack(run_args(kfp.url, spec_file, *extra)) == 2
    assert message in capsys.readouterr().err
    assert kfp.requests == []


def test_a_spec_compiled_on_a_tag_or_missing_is_refused(
    kfstack: Main, kfp: KfpDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(run_args(kfp.url, tmp_path / "none.yaml")) == 2
    assert "compiled pipeline not found" in capsys.readouterr().err
    args = run_args(kfp.url, tmp_path / "x.yaml")
    spec_at = args.index("--spec")
    args[spec_at : spec_at + 2] = ["--image", "ghcr.io/kfstack/ml:0.1.0"]
    assert kfstack(args) == 2
    assert "has no digest" in capsys.readouterr().err
    assert kfp.requests == []


def test_parameters_are_checked_against_the_spec(spec_file: Path) -> None:
    spec = yaml.safe_load(spec_file.read_text())
    with pytest.raises(ValueError, match="missing parameter 'dataset_spec'"):
        coerce_parameters(spec, {"csv_uri": "x", "model_name": "m"})
    typed = coerce_parameters(
        spec,
        {
            "csv_uri": "x",
            "model_name": "m",
            "learning_rate": "0.01",
            "dataset_spec": '{"label": "y", "numeric": ["a"]}',
        },
    )
    assert typed["learning_rate"] == 0.01
    assert typed["dataset_spec"] == {"label": "y", "numeric": ["a"]}


def test_the_double_checks_against_the_models() -> None:
    assert check({"run_id": "r", "state": "RUNNING"}, "V2beta1Run") == []
    assert check({"state": "DONE"}, "V2beta1Run") == [f"$.state: 'DONE' not one of {STATES}"]
    assert check({"runId": "r"}, "V2beta1Run") == ["$.runId: not a field of V2beta1Run"]
    assert check({"run_details": {"task_details": [{"state": 3}]}}, "V2beta1Run") == [
        f"$.run_details.task_details[0].state: 3 not one of {STATES}"
    ]


def test_a_spec_on_a_tag_is_refused(
    kfstack: Main, kfp: KfpDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ml.pipelines.training import compile_pipeline

    spec = compile_pipeline(tmp_path / "tagged.yaml")  # the components' default tag
    assert kfstack(run_args(kfp.url, spec)) == 2
    err = capsys.readouterr().err
    assert "executors not on an image by digest: exec-compare (ghcr.io/kfstack/ml:0.1.0)" in err
    assert "--image REF@sha256:<digest>" in err
    assert kfp.requests == []


def test_following_outlives_a_few_unavailable_polls(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kfstack.cli.pipeline_run as cli

    kfp.script = [run_state("RUNNING", {"training": "RUNNING"}), run_state("SUCCEEDED", DONE)]
    shown: list[str] = []
    show = cli._show

    def show_then_hiccup(run: Any, seen: dict[str, str]) -> None:
        shown.append(str(run.state))
        kfp.unavailable = 3 if len(shown) == 1 else 0  # the next three polls answer 503
        show(run, seen)

    monkeypatch.setattr(cli, "_show", show_then_hiccup)
    assert kfstack(run_args(kfp.url, spec_file)) == 0
    assert shown == ["RUNNING", "SUCCEEDED"]
    assert len(kfp.calls("GET", r"/apis/v2beta1/runs/.+")) == 5
    assert kfp.problems == []


def test_following_gives_up_after_too_many_failures(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.script = [run_state("RUNNING", {"training": "RUNNING"})] * 3
    original_answer = kfp.answer

    def answer(method: str, path: str, query: dict[str, list[str]], body: object) -> object:
        if method == "GET" and path.startswith("/apis/v2beta1/runs/"):
            kfp.unavailable = 10
        return original_answer(method, path, query, body)

    kfp.answer = answer  # type: ignore[method-assign]
    assert kfstack(run_args(kfp.url, spec_file)) == 1
    err = capsys.readouterr().err
    assert "follow run run-" in err and "it may still be running" in err and "HTTP 503" in err


def test_a_profile_namespace_reaches_the_pipeline_and_the_experiment(
    kfstack: Main, kfp: KfpDouble, spec_file: Path
) -> None:
    kfp.script = [run_state("SUCCEEDED", DONE)]
    assert kfstack(run_args(kfp.url, spec_file, "--namespace", "team-a")) == 0
    (pipeline,) = kfp.calls("POST", r"/apis/v2beta1/pipelines")
    (experiment,) = kfp.calls("POST", r"/apis/v2beta1/experiments")
    assert pipeline is not None and pipeline["namespace"] == "team-a"
    assert experiment is not None and experiment["namespace"] == "team-a"
    assert kfp.problems == []
