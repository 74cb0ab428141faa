"""ml.workers with real TensorFlow: 2 and 3 local workers against one, a failing worker named.

Every worker is a process of its own on loopback (`train_workers`); these tests are slow.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ml.data import DatasetSpec, build_dataset
from ml.model import TrainResult, predict_rows, train
from ml.model.export import EXTRA, METRICS_FILE
from ml.workers import WorkerError, train_workers
from tests.ml.conftest import HEADER, classification_rows, write_rows

SPEC = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))
RAW_ROWS = [
    {"age": 30.0, "income (k)": 80.0, "city": "paris"},
    {"age": 55.0, "income (k)": 20.0, "city": "lyon"},
    {"age": None, "income (k)": 65.0, "city": "berlin"},  # missing value, unseen city
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The people CSV of tests/ml (4000 rows: 3200 train, 400 validation, 400 test)."""
    root = tmp_path_factory.mktemp("workers")
    return write_rows(root / "people.csv", HEADER, classification_rows(4000))


@pytest.fixture(scope="module")
def single(people: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The single-worker default (no sharding, TrainConfig()) on the same split."""
    root = tmp_path_factory.mktemp("single")
    return train(build_dataset(people, SPEC, root / "ds").directory, root / "models")


def _sharded(people: Path, root: Path, shards: int) -> Path:
    return build_dataset(people, SPEC, root / f"ds{shards}", shards=shards).directory


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_match_one_worker_and_serve_raw_rows(
    workers: int, people: Path, single: TrainResult, tmp_path: Path
) -> None:
    dataset = _sharded(people, tmp_path, workers)
    epochs: list[int] = []
    result = train_workers(
        dataset, tmp_path / "models", workers=workers, on_epoch=lambda e, _n, _l: epochs.append(e)
    )
    # the same test split (same seed, same rows): within 1 point of one worker
    assert result.metrics["rows"] == single.metrics["rows"] == 400
    assert abs(result.metrics["accuracy"] - single.metrics["accuracy"]) <= 0.01
    assert epochs == list(range(1, len(result.history["loss"]) + 1))  # the chief's progress
    assert result.plan is not None and result.plan.members == 1
    # the same layout and signature as one worker's export
    assert result.export_dir == tmp_path / "models" / "1"
    assert sorted(p.name for p in result.export_dir.iterdir()) == sorted(
        p.name for p in single.export_dir.iterdir()
    )
    record = json.loads((result.export_dir / EXTRA / METRICS_FILE).read_text())
    assert record["metrics"] == result.metrics
    rows = predict_rows(result.export_dir, RAW_ROWS)
    assert [r["label"] for r in rows[:2]] == ["yes", "no"]
    assert set(rows[2]["probabilities"]) == {"no", "yes"}
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["1"]


def test_a_failing_worker_ends_the_run_naming_it(people: Path, tmp_path: Path) -> None:
    dataset = _sharded(people, tmp_path, 2)
    shutil.copy(dataset / "train-00001-of-00002.csv", tmp_path / "kept.csv")
    (dataset / "train-00001-of-00002.csv").unlink()  # worker 1 cannot read its shard
    with pytest.raises(WorkerError) as failed:
        train_workers(dataset, tmp_path / "models", workers=2)
    assert failed.value.index == 1
    message = str(failed.value)
    assert message.startswith("worker 1 of 2 at 127.0.0.1:") and "train-00001-of-00002" in message
    assert "the other workers were stopped" in message
    assert not (tmp_path / "models").exists()  # nothing half-written


def test_balanced_class_weights_reach_the_workers(tmp_path: Path) -> None:
    """Keras cannot weigh classes of a distributed dataset: the workers weigh the rows."""
    from ml.model import TrainConfig

    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(1200))
    dataset = _sharded(csv, tmp_path, 2)
    config = TrainConfig(epochs=2, batch_size=64, class_weight="balanced")
    result = train_workers(dataset, tmp_path / "models", workers=2, config=config)
    assert len(result.history["loss"]) == 2 and result.metrics["rows"] == 120
