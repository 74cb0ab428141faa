"""`kfstack release publish`: a local run's model to moto's S3 server, its record rewritten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.serving.inputs import _servable
from ml.model_release import ReleaseError, load_release, write_release
from tests.ml.remote.conftest import store_args
from tests.serving_fixtures import make_release

Main = Callable[[list[str]], int]
FILES = {
    "saved_model.pb": b"graph",
    "variables/variables.index": b"index",
    "variables/variables.data-00000-of-00001": b"weights" * 100,
    "assets/vocab.txt": b"paris\nlyon\n",
}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """What `kfstack pipeline run-local --out OUT` leaves: OUT/model/1/ and OUT/release.json."""
    out = tmp_path / "run"
    for name, data in FILES.items():
        path = out / "model" / "1" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    write_release(make_release("r1", storage=(out / "model").as_uri()), out / "release.json")
    return out


def publish_args(run_dir: Path, endpoint: str, *extra: str) -> list[str]:
    given = ["--prefix", "models"]  # admin keys and a prefix given: no profile's paths
    return ["release", "publish", "--run-dir", str(run_dir), *store_args(endpoint), *given, *extra]


def test_publish_uploads_the_version_and_rewrites_the_record(
    kfstack: Main, s3: Any, s3_endpoint: str, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_release(run_dir / "release.json").is_local
    assert kfstack(publish_args(run_dir, s3_endpoint)) == 0
    listed = s3.list_objects_v2(Bucket="mlpipeline", Prefix="models/")["Contents"]
    assert {o["Key"]: o["Size"] for o in listed} == {
        f"models/iris/r1/1/{name}": len(data) for name, data in FILES.items()
    }
    body = s3.get_object(Bucket="mlpipeline", Key="models/iris/r1/1/saved_model.pb")["Body"]
    assert body.read() == b"graph"
    release = load_release(run_dir / "release.json")
    assert release.storage_uri == "s3://mlpipeline/models/iris/r1" and not release.is_local
    assert release.version_uri == "s3://mlpipeline/models/iris/r1/1"
    out = capsys.readouterr().out
    assert "uploaded 4 files" in out and "s3://mlpipeline/models/iris/r1" in out


def test_publish_to_another_file_keeps_the_local_record(
    kfstack: Main, s3: Any, s3_endpoint: str, run_dir: Path, tmp_path: Path
) -> None:
    before = (run_dir / "release.json").read_bytes()
    out = tmp_path / "build" / "release.json"
    args = publish_args(run_dir, s3_endpoint, "--out", str(out), "--prefix", "team/models")
    assert kfstack(args) == 0
    assert (run_dir / "release.json").read_bytes() == before
    assert load_release(out).storage_uri == "s3://mlpipeline/team/models/iris/r1"
    assert s3.list_objects_v2(Bucket="mlpipeline", Prefix="team/models/iris/r1/1/")["KeyCount"] == 4


def test_a_missing_bucket_changes_nothing(
    kfstack: Main, s3: Any, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (run_dir / "release.json").read_bytes()
    endpoint = s3.meta.endpoint_url
    assert kfstack(publish_args(run_dir, endpoint, "--bucket", "nope")) == 1
    err = capsys.readouterr().err
    assert f"bucket 'nope' at {endpoint}" in err and "Traceback" not in err
    assert (run_dir / "release.json").read_bytes() == before
    assert s3.list_objects_v2(Bucket="mlpipeline").get("KeyCount", 0) == 0


def test_an_unreachable_store_changes_nothing(
    kfstack: Main, closed_port: str, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (run_dir / "release.json").read_bytes()
    assert kfstack(publish_args(run_dir, closed_port)) == 1
    assert f"at {closed_port}" in capsys.readouterr().err
    assert (run_dir / "release.json").read_bytes() == before


def test_a_record_without_its_model_version_is_refused(
    kfstack: Main, s3: Any, s3_endpoint: str, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (run_dir / "model" / "1").rename(run_dir / "model" / "2")
    assert kfstack(publish_args(run_dir, s3_endpoint)) == 1
    assert "no SavedModel (saved_model.pb) for serving version 1" in capsys.readouterr().err
    assert s3.list_objects_v2(Bucket="mlpipeline").get("KeyCount", 0) == 0


def test_bad_input_exits_2(
    kfstack: Main, s3_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(["release", "publish", *store_args(s3_endpoint)]) == 2
    assert "give --run-dir OUT, or both --model and --release" in capsys.readouterr().err
    assert kfstack(publish_args(tmp_path / "none", s3_endpoint)) == 2
    assert "release record not found" in capsys.readouterr().err
    (tmp_path / "unpromoted" / "model").mkdir(parents=True)
    assert kfstack(publish_args(tmp_path / "unpromoted", s3_endpoint)) == 2
    assert "did not promote its candidate" in capsys.readouterr().err


def test_serving_refuses_a_record_that_was_never_published(run_dir: Path) -> None:
    with pytest.raises(ReleaseError, match="upload it with `kfstack release publish`"):
        _servable(run_dir / "release.json")
    published = make_release("r1", storage="s3://mlpipeline/models/iris/r1")
    path = write_release(published, run_dir / "published.json")
    assert _servable(path) == published
