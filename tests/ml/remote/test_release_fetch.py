"""`kfstack release fetch`: KFP v2beta1 double for the run, moto's S3 server for the record."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ml.model_release import load_release, write_release
from tests.ml.remote.conftest import ACCESS, SECRET, store_args
from tests.ml.remote.kfp_double import KfpDouble, run_state
from tests.serving_fixtures import make_release

Main = Callable[[list[str]], int]
Capsys = pytest.CaptureFixture[str]
RELEASE_TASK = "release record → registration → serving"
PROMOTED = {
    "training": "SUCCEEDED",
    "gate: promote candidate": "SUCCEEDED",
    RELEASE_TASK: "SUCCEEDED",
}
ROOT = ["--pipeline-root", "minio://mlpipeline/v2/artifacts"]  # given: no profile's runs
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
        *ROOT,
        *store_args(endpoint),
    ]


@dataclass(frozen=True)
class Fetch:
    """`kfstack release fetch` against the KFP double and the S3 server, and what it printed."""

    kfstack: Main
    kfp: KfpDouble
    s3_endpoint: str
    tmp_path: Path
    capsys: Capsys

    def __call__(self, run_id: str, out: Path, *, host: str = "", store: str = "") -> int:
        args = fetch_args(host or self.kfp.url, run_id, out, store or self.s3_endpoint)
        return self.kfstack(args)

    def err(self) -> str:
        return self.capsys.readouterr().err


@pytest.fixture
def fetch(kfstack: Main, kfp: KfpDouble, s3_endpoint: str, tmp_path: Path, capsys: Capsys) -> Fetch:
    return Fetch(kfstack, kfp, s3_endpoint, tmp_path, capsys)


def test_fetch_writes_the_record_of_a_promoted_run(fetch: Fetch, s3: Any) -> None:
    fetch.kfp.add_run("run-7", run_state("SUCCEEDED", PROMOTED))
    record = put_record(s3, "run-7", fetch.tmp_path, pipeline_run={"id": "run-7"})
    out = fetch.tmp_path / "build" / "release.json"
    assert fetch("run-7", out) == 0
    assert json.loads(out.read_text()) == record
    assert load_release(out).version == "r7"
    assert f"from s3://mlpipeline/{KEY.format(run='run-7')}" in fetch.capsys.readouterr().out
    assert fetch.kfp.problems == []


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
    args = ["release", "fetch", "--host", kfp.url, "--run", "run-8", "--out", str(out), *ROOT]
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
def test_runs_without_a_release_are_clear_errors_and_write_nothing(
    fetch: Fetch, s3: Any, state: dict[str, Any], message: str
) -> None:
    fetch.kfp.add_run("run-1", state)
    out = fetch.tmp_path / "release.json"
    assert fetch("run-1", out) == 1
    err = fetch.err()
    assert f"run run-1 {message}" in err or message in err, err
    assert "Traceback" not in err
    assert not out.exists() and list(fetch.tmp_path.iterdir()) == []
    assert fetch.kfp.problems == []


def test_a_bad_run_id_is_not_found(fetch: Fetch) -> None:
    out = fetch.tmp_path / "release.json"
    assert fetch("no-such-run", out) == 1
    url = fetch.kfp.url
    assert f"KFP API at {url}: get run no-such-run: not found (run no-such-run not found)" in (
        fetch.err()
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("side", "message"), [("host", "cannot reach the KFP API at"), ("store", "object store")]
)
def test_an_unreachable_api_or_object_store_writes_nothing(
    fetch: Fetch, closed_port: str, side: str, message: str
) -> None:
    fetch.kfp.add_run("run-2", run_state("SUCCEEDED", PROMOTED))
    out = fetch.tmp_path / "release.json"
    assert fetch("run-2", out, **{side: closed_port}) == 1
    assert f"{message} {closed_port}" in fetch.err()
    assert not out.exists()


def test_a_missing_or_foreign_record_writes_nothing(fetch: Fetch, s3: Any) -> None:
    fetch.kfp.add_run("run-3", run_state("SUCCEEDED", PROMOTED))
    out = fetch.tmp_path / "out" / "release.json"
    assert fetch("run-3", out) == 1
    assert "no release artifact under s3://mlpipeline/v2/artifacts/kfstack-training/run-3/" in (
        fetch.err()
    )
    put_record(s3, "run-3", fetch.tmp_path, pipeline_run={"id": "run-99"})
    assert fetch("run-3", out) == 2
    assert "names run run-99, not run-3" in fetch.err()
    assert not out.exists()


def test_no_keys_names_the_options(
    kfstack: Main, kfp: KfpDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kfp.add_run("run-4", run_state("SUCCEEDED", PROMOTED))
    args = ["release", "fetch", "--host", kfp.url, "--run", "run-4", "--out", str(tmp_path / "r")]
    args += ROOT
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
    fetch: Fetch, s3: Any
) -> None:
    # Task details under other names (or none at all): the record in the store decides.
    fetch.kfp.add_run("run-5", run_state("SUCCEEDED", {"system-container-impl": "SUCCEEDED"}))
    record = put_record(s3, "run-5", fetch.tmp_path, pipeline_run={"id": "run-5"})
    out = fetch.tmp_path / "release.json"
    assert fetch("run-5", out) == 0
    assert json.loads(out.read_text()) == record
