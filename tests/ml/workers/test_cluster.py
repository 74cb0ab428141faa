"""ml.workers.cluster and ml.data.shards without TensorFlow: places, shards, step counts."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ml.data import DataError, DatasetSpec, build_dataset, read_schema, read_statistics
from ml.data.schema import ShardInfo
from ml.data.shards import assign, shards_of
from ml.workers.cluster import free_ports, place, steps, tf_config
from tests.ml.conftest import HEADER, classification_rows, write_rows

SPEC = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))
Main = Callable[[list[str]], int]


def test_tf_config_round_trips_to_each_place() -> None:
    addresses = [f"127.0.0.1:{p}" for p in free_ports(3)]
    assert len(set(addresses)) == 3
    for i in range(3):
        where = place({"TF_CONFIG": json.dumps(tf_config(addresses, i))})
        assert (where.index, where.workers, where.chief) == (i, 3, i == 0)
    assert place({}) == place({"TF_CONFIG": " "}) == place({"TF_CONFIG": ""})
    assert place({}).workers == 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("not json", "not a cluster"),
        ('{"cluster": {"worker": ["a:1"]}}', "not a cluster"),
        (
            '{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, '
            '"task": {"type": "worker", "index": 0}}',
            "only 'worker'",
        ),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "index 3"),
    ],
)
def test_bad_tf_config_is_one_clear_error(config: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        place({"TF_CONFIG": config})


def test_every_worker_runs_the_same_steps_whatever_its_shard() -> None:
    shards = tuple(ShardInfo(file=f"s{i}", rows=r) for i, r in enumerate((50, 49, 49)))
    mine = [assign(shards, 2, i) for i in range(2)]
    assert [tuple(s.file for s in m) for m in mine] == [("s0", "s2"), ("s1",)]
    counts = steps(batch_size=128, train_steps=75, validation=mine)
    # the global batch is split; validation covers the worker with most rows (99 / 64)
    assert (counts.batch, counts.train, counts.validation) == (64, 75, 2)
    assert steps(batch_size=128, train_steps=3, validation=[shards]).batch == 128
    with pytest.raises(ValueError, match="fewer than the 4 workers: build the dataset"):
        assign(shards, 4, 0)


def test_sharded_build_deals_rows_and_keeps_one_vocabulary(tmp_path: Path, kfstack: Main) -> None:
    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(1000))
    whole = build_dataset(csv, SPEC, tmp_path / "whole")
    args = ["data", "build", "--csv", str(csv), "--label", "label", "--out", str(tmp_path / "ds")]
    assert kfstack([*args, "--categorical", "city", "--drop", "row id", "--shards", "3"]) == 0
    schema = read_schema(tmp_path / "ds")
    # statistics and vocabularies are those of one build over all rows
    assert read_statistics(tmp_path / "ds") == whole.statistics
    for split, info in schema.splits.items():
        assert len(info.shards) == 3 and info.rows == whole.rows[split]
        assert sum(s.rows for s in info.shards) == info.rows
        assert max(s.rows for s in info.shards) - min(s.rows for s in info.shards) <= 1
        lines = [
            (tmp_path / "ds" / s.file).read_text().splitlines() for s in shards_of(schema, split)
        ]
        one = (tmp_path / "whole" / f"{split}.csv").read_text().splitlines()
        assert all(part[0] == one[0] for part in lines)  # each shard has the header
        dealt = [lines[i % 3][1 + i // 3] for i in range(len(one) - 1)]
        assert dealt == one[1:]  # row i in shard i mod 3, in order
    assert not (tmp_path / "ds" / "train.csv").exists()
    with pytest.raises(ValueError, match="written as 3 shards"):
        from ml.data import read_split

        read_split(tmp_path / "ds", "test")


def test_more_shards_than_rows_is_refused(tmp_path: Path) -> None:
    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(60))
    with pytest.raises(DataError, match="fewer than the 8 shards"):
        build_dataset(csv, SPEC, tmp_path / "ds", shards=8)
    assert not (tmp_path / "ds").exists()


def test_reshard_streams_a_built_dataset_into_the_same_shards(tmp_path: Path) -> None:
    from ml.data.shards import reshard

    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(1000))
    build_dataset(csv, SPEC, tmp_path / "whole")
    build_dataset(csv, SPEC, tmp_path / "built", shards=3)
    schema = reshard(tmp_path / "whole", 3, tmp_path / "again")
    assert schema == read_schema(tmp_path / "built") == read_schema(tmp_path / "again")
    for name in (p.name for p in (tmp_path / "built").iterdir()):
        # the same cells (numbers read back as text may be quoted)
        assert _cells(tmp_path / "again" / name) == _cells(tmp_path / "built" / name), name
    with pytest.raises(DataError, match="fewer than the 200 shards"):
        reshard(tmp_path / "whole", 200, tmp_path / "too-many")


def _cells(path: Path) -> list[list[str]] | str:
    if path.suffix != ".csv":
        return path.read_text()
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_train_refuses_more_workers_than_shards_before_starting_any(
    tmp_path: Path, kfstack: Main, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(300))
    build_dataset(csv, SPEC, tmp_path / "ds", shards=2)
    args = ["train", "--data", str(tmp_path / "ds"), "--out", str(tmp_path / "m"), "--quiet"]
    assert kfstack([*args, "--workers", "3"]) == 2
    assert "fewer than the 3 workers: build the dataset with" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
