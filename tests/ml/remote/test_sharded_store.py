"""Sharded datasets in the profile's object store: `data build --out s3://`, a worker's fetch.

The S3 double limits each release's profile keys as its profile controller does (26.03: the
profile's own prefixes only; v1.10.2: the platform's keys, copied).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ml.model_release import read_profile
from ml.model_release.profile import private_prefix
from ml.workers import train_workers
from ml.workers.store import fetch_dataset, store_env, store_from_env
from tests.ml.conftest import HEADER, classification_rows, write_rows
from tests.ml.remote.conftest import NAMESPACE, ProfileFile
from tests.ml.remote.s3_gate import GatedS3

Main = Callable[[list[str]], int]
URI = f"s3://mlpipeline/{private_prefix(NAMESPACE)}/data/people"
BUILD = ["data", "build", "--label", "label", "--categorical", "city", "--drop", "row id"]


def _build(kfstack: Main, tmp_path: Path, profile: ProfileFile, endpoint: str, out: str) -> int:
    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(1200))
    args = [*BUILD, "--csv", str(csv), "--out", out, "--shards", "3"]
    return kfstack([*args, "--profile", str(profile.path), "--s3-endpoint", endpoint])


def test_build_uploads_shards_and_a_worker_fetches_only_its_own(
    kfstack: Main, s3: Any, s3_server: GatedS3, profile: ProfileFile, tmp_path: Path
) -> None:
    endpoint = str(s3.meta.endpoint_url)
    assert _build(kfstack, tmp_path, profile, endpoint, URI) == 0, s3_server.denied
    listed = s3.list_objects_v2(Bucket="mlpipeline", Prefix=URI.split("mlpipeline/")[1])
    names = sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"])
    assert len(names) == 2 + 3 * 3 and "schema.json" in names and "train.csv" not in names
    store = read_profile(profile.path, endpoint=endpoint).store
    assert store_from_env(store_env(store)) == store
    one = fetch_dataset(URI, store, tmp_path / "w1", workers=3, index=1)
    assert sorted(p.name for p in one.iterdir()) == [
        "schema.json",
        "statistics.json",
        "train-00001-of-00003.csv",
        "validation-00001-of-00003.csv",
    ]
    chief = fetch_dataset(URI, store, tmp_path / "w0", workers=3, index=0)
    assert sorted(p.name for p in chief.glob("test-*")) == [
        f"test-{i:05d}-of-00003.csv" for i in range(3)
    ]


def test_a_prefix_outside_the_profile_is_refused_as_on_the_cluster(
    kfstack: Main, s3: Any, profile: ProfileFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _build(kfstack, tmp_path, profile, str(s3.meta.endpoint_url), "s3://mlpipeline/data/x")
    if profile.grant.allowed_prefixes is None:  # v1.10: the platform's keys reach everything
        assert code == 0
        return
    assert code == 1
    assert "AccessDenied" in capsys.readouterr().err


@pytest.mark.slow
def test_workers_train_from_the_store(
    kfstack: Main, s3: Any, profile: ProfileFile, tmp_path: Path
) -> None:
    if profile.grant.allowed_prefixes is None:
        pytest.skip("one release is enough to train from the store (26.03's limited keys)")
    endpoint = str(s3.meta.endpoint_url)
    assert _build(kfstack, tmp_path, profile, endpoint, URI) == 0
    store = read_profile(profile.path, endpoint=endpoint).store
    from ml.model import TrainConfig, predict_rows

    config = TrainConfig(epochs=2, batch_size=64)
    result = train_workers(URI, tmp_path / "models", workers=2, config=config, store=store)
    assert result.metrics["rows"] == 120  # every test shard, evaluated by the chief
    rows = predict_rows(result.export_dir, [{"age": 30.0, "income (k)": 80.0, "city": "paris"}])
    assert rows[0]["label"] in {"yes", "no"}
