"""`kfstack release fetch`: KFP v2beta1 double for the run, moto's S3 server for the record."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ml.model_release import load_release, write_release
from tests.ml.remote.conftest import ACCESS, SECRET, store_args
from tests.ml.remote.kfp_double import KfpDouble, run_state
from tests.serving_fixtures import make_release

Main = Callable[[list[str]], int]
RELEASE_TASK = "release record → registration → serving"
PROMOTED = {
    "training": "SUCCEEDED",
    "gate: promote candidate": "SUCCEEDED",
    RELEASE_TASK: "SUCCEEDED",
}
KEY = "v2/artifacts/kfstack-training/{run}/" + RELEASE_TASK + "/1234/release"


def put_record(s3: Any, run_id: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    release = make_release(
        "r7", storage="s3://mlpipeline/v2/artifacts/kfstack-training/x/train/model", **extra
    )
    path = write_release(release, tmp_path / "src.json")
    s3.put_object(Bucket="mlpipeline", Key=KEY.format(run=run_id), Body=path.read_bytes())
    # Other artifacts of the run share the prefix; only the one named `release` is the record.
    s3.put_object(
        Bucket="mlpipeline",
        Key=f"v2/artifacts/kfstack-training/{run_id}/train/9/model/1/saved_model.pb",
        Body=b"x",
    )
    return json.loads(path.read_text())


def fetch_args(host: str, run_id: str, out: Path, endpoint: str) -> list[str]:
    return [
        "release",
        "fetch",
        "--host",
        host,
        "--run",
        run_id,
        "--out",
        str(out),
        *store_args(endpoint),
    ]


def test_fetch_writes_the_record_of_a_promoted_run(  # noqa: PLR0917 (pytest fixtures)
    kfstack: Main,
    kfp: KfpDouble,
    s3: Any,
    s3_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kfp.add_run("run-7", run_state("SUCCEEDED", PROMOTED))
    record = put_record(s3, "run-7", tmp_path, pipeline_run={"id": "run-7"})
    out = tmp_path / "build" / "release.json"
    assert kfstack(fetch_args(kfp.url, "run-7", out, s3_endpoint)) == 0
    assert json.loads(out.read_text()) == record
    assert load_release(out).version == "r7"
    assert f"from s3://mlpipeline/{KEY.format(run='run-7')}" in capsys.readouterr().out
    assert kfp.problems == []


def test_keys_from_the_stack_outputs(
    kfstack: Main, kfp: KfpDouble, s3: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    kfp.add_run("run-8", run_state("SUCCEEDED", PROMOTED))
    put_record(s3, "run-8", tmp_path)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {"credentials": {"objectStoreAccessKey": ACCESS, "objectStoreSecretKey": SECRET}}
        )
    )
    out = tmp_path / "release.json"
    args = ["release", "fetch", "--host", kfp.url, "--run", "run-8", "--out", str(out)]
    assert kfstack([*args, "--s3-endpoint", s3_endpoint, "--stack-outputs", str(outputs)]) == 0
    assert out.is_file()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (run_state("FAILED", {"training": "FAILED"}, error="OOMKilled"), "is FAILED: OOMKilled"),
        (run_state("RUNNING", {"training": "RUNNING"}), "is RUNNING"),
        (
            run_state("SUCCEEDED", {"training": "SUCCEEDED", "gate: promote candidate": "SKIPPED"}),
            "did not promote its candidate (no release task, no release artifact under "
            "s3://mlpipeline/v2/artifacts/kfstack-training/run-1/)",
        ),
        (
            run_state("SUCCEEDED", {"training": "SUCCEEDED", RELEASE_TASK: "SKIPPED"}),
            "did not promote its candidate (release task SKIPPED)",
        ),
    ],
)
def test_runs_without_a_release_are_clear_errors_and_write_nothing(  # noqa: PLR0917 (pytest fixtures)
    kfstack: Main,
    kfp: KfpDouble,
    s3: Any,
    s3_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state: dict[str, Any],
    message: str,
) -> None:
    kfp.add_run("run-1", state)
    out = tmp_path / "release.json"
    assert kfstack(fetch_args(kfp.url, "run-1", out, s3_endpoint)) == 1
    err = capsys.readouterr().err
    assert f"run run-1 {message}" in err or message in err, err
    assert "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert kfp.problems == []


def test_a_bad_run_id_is_not_found(
    kfstack: Main,
    kfp: KfpDouble,
    s3_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "release.json"
    assert kfstack(fetch_args(kfp.url, "no-such-run", out, s3_endpoint)) == 1
    err = capsys.readouterr().err
    assert (
        f"KFP API at {kfp.url}: get run no-such-run: not found (run no-such-run not found)" in err
    )
    assert not out.exists()


def test_an_unreachable_host_writes_nothing(
    kfstack: Main,
    closed_port: str,
    s3_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "release.json"
    assert kfstack(fetch_args(closed_port, "run-1", out, s3_endpoint)) == 1
    assert f"cannot reach the KFP API at {closed_port}" in capsys.readouterr().err
    assert not out.exists()


def test_an_unreachable_object_store_writes_nothing(
    kfstack: Main,
    kfp: KfpDouble,
    closed_port: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kfp.add_run("run-2", run_state("SUCCEEDED", PROMOTED))
    out = tmp_path / "release.json"
    assert kfstack(fetch_args(kfp.url, "run-2", out, closed_port)) == 1
    assert f"object store {closed_port}" in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_or_foreign_record_writes_nothing(  # noqa: PLR0917 (pytest fixtures)
    kfstack: Main,
    kfp: KfpDouble,
    s3: Any,
    s3_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kfp.add_run("run-3", run_state("SUCCEEDED", PROMOTED))
    out = tmp_path / "out" / "release.json"
    assert kfstack(fetch_args(kfp.url, "run-3", out, s3_endpoint)) == 1
    assert "no release artifact under s3://mlpipeline/v2/artifacts/kfstack-training/run-3/" in (
        capsys.readouterr().err
    )
    put_record(s3, "run-3", tmp_path, pipeline_run={"id": "run-99"})
    assert kfstack(fetch_args(kfp.url, "run-3", out, s3_endpoint)) == 2
    assert "names run run-99, not run-3" in capsys.readouterr().err
    assert not out.exists()


def test_no_keys_names_the_options(
    kfstack: Main, kfp: KfpDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.add_run("run-4", run_state("SUCCEEDED", PROMOTED))
    args = ["release", "fetch", "--host", kfp.url, "--run", "run-4", "--out", str(tmp_path / "r")]
    assert kfstack(args) == 1
    assert "give --access-key and --secret-key, or --stack-outputs" in capsys.readouterr().err
    masked = tmp_path / "outputs.json"
    masked.write_text(
        json.dumps(
            {
                "credentials": {
                    "objectStoreAccessKey": "[secret]",
                    "objectStoreSecretKey": "[secret]",
                }
            }
        )
    )
    assert kfstack([*args, "--stack-outputs", str(masked)]) == 1
    assert "write it with --show-secrets" in capsys.readouterr().err


def test_task_names_kfp_does_not_report_leave_the_decision_to_the_store(
    kfstack: Main, kfp: KfpDouble, s3: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    # Task details under other names (or none at all): the record in the store decides.
    kfp.add_run("run-5", run_state("SUCCEEDED", {"system-container-impl": "SUCCEEDED"}))
    record = put_record(s3, "run-5", tmp_path, pipeline_run={"id": "run-5"})
    out = tmp_path / "release.json"
    assert kfstack(fetch_args(kfp.url, "run-5", out, s3_endpoint)) == 0
    assert json.loads(out.read_text()) == record
