"""Every path, key and root of the journey against the release's own profile controller.

`profile` (conftest) runs the real `sync.py` of each shared release for the journey's
profile namespace; the S3 double refuses its keys outside the prefixes that controller's
policy allows (26.03), and the KFP double fails a run whose CSV those keys may not read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ml.model_release import (
    load_release,
    models_prefix,
    private_prefix,
    read_profile,
    write_release,
)
from ml.model_release.store import StoreError, split_uri
from tests import journey
from tests.ml.remote.conftest import NAMESPACE, ProfileFile
from tests.ml.remote.kfp_double import KfpDouble, run_state
from tests.ml.remote.s3_gate import GatedS3
from tests.ml.remote.test_release_publish import FILES
from tests.serving_fixtures import make_release

Main = Callable[[list[str]], int]
PROMOTED = {"training": "SUCCEEDED", "release record → registration → serving": "SUCCEEDED"}


def _journey(program: str, *words: str) -> journey.Command:
    found = [c for c in journey.commands() if c.words[: len(words) + 1] == (program, *words)]
    assert found, f"the README journey has no `{program} {' '.join(words)}` command"
    return found[0]


def _key(uri: str) -> str:
    bucket, key = split_uri(uri)
    assert bucket == "mlpipeline", uri
    return key


def test_the_controller_gives_each_release_what_its_readme_says(profile: ProfileFile) -> None:
    grant = profile.grant
    launcher = grant.child("ConfigMap", "kfp-launcher")
    if grant.release == "26.03":
        assert grant.allowed_prefixes == (
            "artifacts/",
            f"private-artifacts/{NAMESPACE}/",
            f"private/{NAMESPACE}/",
            "shared/",
        )
        assert launcher is not None
        assert launcher["data"]["defaultPipelineRoot"] == (
            f"minio://mlpipeline/private-artifacts/{NAMESPACE}/v2/artifacts"
        )
    else:  # v1.10: the platform's MinIO keys copied into the profile, no launcher root
        assert grant.allowed_prefixes is None and launcher is None


def test_the_profile_read_from_kubectl_is_the_controllers(profile: ProfileFile) -> None:
    grant = profile.grant
    read = read_profile(profile.path)
    assert read.namespace == NAMESPACE
    assert (read.store.access_key, read.store.secret_key) == grant.keys
    assert read.pipeline_root == grant.pipeline_root
    assert grant.may_use(_key(read.pipeline_root) + "/kfstack-training/run/x")
    assert grant.may_use(private_prefix(NAMESPACE) + "/data.csv")
    assert grant.may_use(models_prefix(NAMESPACE) + "/iris/1/1/saved_model.pb")


def test_the_journey_uploads_its_data_where_the_profile_reads(profile: ProfileFile) -> None:
    upload = _journey("aws", "--endpoint-url")
    destination = upload.words[-1]
    run = _journey("uv", "run", "kfstack", "pipeline", "run")
    assert run.flag("--namespace") == NAMESPACE
    csv_uri = run.flag("--csv-uri")
    assert csv_uri is not None and _key(csv_uri) == _key(destination)
    assert profile.grant.may_use(_key(destination)), (
        f"{destination}: the profile's keys may use only {profile.grant.allowed_prefixes}"
    )


def test_a_run_reads_its_csv_with_the_profiles_keys(
    kfstack: Main, kfp: KfpDouble, spec_file: Path, profile: ProfileFile, tmp_path: Path
) -> None:
    kfp.profiles[NAMESPACE] = profile.grant.may_use
    kfp.script = [run_state("SUCCEEDED", PROMOTED)]
    run = _journey("uv", "run", "kfstack", "pipeline", "run")
    csv_uri = str(run.flag("--csv-uri"))
    common = ["pipeline", "run", "--host", kfp.url, "--spec", str(spec_file)]
    common += ["--namespace", NAMESPACE, "--label", "species", "--name", "iris", "--poll", "0"]
    run_id = tmp_path / "run-id"
    assert kfstack([*common, "--csv-uri", csv_uri, "--run-id-file", str(run_id)]) == 0
    assert run_id.read_text() == f"{next(iter(kfp.runs))}\n"
    outside = kfstack([*common, "--csv-uri", "minio://mlpipeline/data/iris.csv"])
    assert outside == (1 if profile.grant.allowed_prefixes is not None else 0)
    assert kfp.problems == []


def test_fetch_reads_the_run_under_the_profiles_root_with_its_keys(
    kfstack: Main,
    *,
    kfp: KfpDouble,
    s3: Any,
    s3_server: GatedS3,
    profile: ProfileFile,
    tmp_path: Path,
) -> None:
    prefix = f"{_key(profile.grant.pipeline_root)}/kfstack-training/run-9"
    release = make_release("r9", storage=f"s3://mlpipeline/{prefix}/train/3/model")
    source = write_release(release, tmp_path / "src.json")
    s3.put_object(
        Bucket="mlpipeline", Key=f"{prefix}/write-release/77/release", Body=source.read_bytes()
    )
    kfp.add_run("run-9", run_state("SUCCEEDED", PROMOTED))
    out = tmp_path / "release.json"
    fetch = _journey("uv", "run", "kfstack", "release", "fetch")
    assert fetch.flag("--profile") is not None  # the journey names the profile, not a root
    args = ["release", "fetch", "--host", kfp.url, "--run", "run-9", "--out", str(out)]
    args += ["--s3-endpoint", _endpoint(s3), "--profile", str(profile.path)]
    assert kfstack(args) == 0, s3_server.denied
    fetched = load_release(out)
    assert profile.grant.may_use(_key(fetched.storage_uri)), fetched.storage_uri


def test_publish_uploads_where_the_profile_may_read(
    kfstack: Main, s3: Any, s3_server: GatedS3, profile: ProfileFile, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    for name, data in FILES.items():
        path = run_dir / "model" / "1" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    write_release(
        make_release("r1", storage=(run_dir / "model").as_uri()), run_dir / "release.json"
    )
    args = ["release", "publish", "--run-dir", str(run_dir), "--profile", str(profile.path)]
    args += ["--s3-endpoint", _endpoint(s3)]
    assert kfstack(args) == 0, s3_server.denied
    uri = load_release(run_dir / "release.json").storage_uri
    assert uri == f"s3://mlpipeline/{models_prefix(NAMESPACE)}/iris/r1"
    assert profile.grant.may_use(_key(uri) + "/1/saved_model.pb")
    # only the bucket check may be refused (the policy names no bucket), never an object
    assert set(s3_server.denied) <= {"HEAD /mlpipeline"}


def test_a_path_outside_the_policy_is_refused_as_on_the_cluster(
    kfstack: Main,
    *,
    s3: Any,
    s3_server: GatedS3,
    profile: ProfileFile,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """26.03's keys are limited to the profile's prefixes; v1.10's are the platform's own."""
    run_dir = tmp_path / "run"
    (run_dir / "model" / "1").mkdir(parents=True)
    (run_dir / "model" / "1" / "saved_model.pb").write_bytes(b"graph")
    write_release(
        make_release("r1", storage=(run_dir / "model").as_uri()), run_dir / "release.json"
    )
    args = ["release", "publish", "--run-dir", str(run_dir), "--profile", str(profile.path)]
    args += ["--s3-endpoint", _endpoint(s3), "--prefix", "models"]
    if profile.grant.allowed_prefixes is None:  # v1.10: MinIO's admin keys, copied per profile
        assert kfstack(args) == 0
        assert not s3_server.denied
        return
    assert kfstack(args) == 1
    assert "AccessDenied" in capsys.readouterr().err
    assert s3_server.denied


def _endpoint(s3: Any) -> str:
    return str(s3.meta.endpoint_url)


def test_the_journey_profile_file_is_what_kubectl_prints(profile: ProfileFile) -> None:
    (command,) = [c for c in journey.commands() if c.redirect() == "build/profile.json"]
    assert command.words[:3] == ("kubectl", "-n", NAMESPACE)
    assert "secret/mlpipeline-minio-artifact" in command.words
    assert "configmap/kfp-launcher" in command.words and "--ignore-not-found" in command.words
    assert json.loads(profile.path.read_text())["kind"] == "List"


def test_a_profile_of_another_namespace_or_without_its_secret_is_refused(
    kfstack: Main, profile: ProfileFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["release", "fetch", "--host", "http://127.0.0.1:9", "--run", "r", "--out"]
    args += [str(tmp_path / "r.json"), "--profile", str(profile.path)]
    assert kfstack([*args, "--namespace", "kubeflow-user-other"]) == 2
    assert "not --namespace kubeflow-user-other's" in capsys.readouterr().err
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": []}))
    with pytest.raises(StoreError, match="no Secret mlpipeline-minio-artifact"):
        read_profile(empty)
    assert not (tmp_path / "r.json").exists()
