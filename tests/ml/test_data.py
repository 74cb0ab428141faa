"""ml.data.dataset: validation messages, splits, schema/statistics and the tf.data pipelines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ml.data import (
    DataError,
    DatasetSpec,
    build_dataset,
    inspect_csv,
    load_split,
    read_schema,
    read_split,
)
from tests.ml.conftest import HEADER, classification_rows, write_rows

SPEC = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))


def test_build_writes_splits_schema_and_statistics(people_csv: Path, tmp_path: Path) -> None:
    built = build_dataset(people_csv, SPEC, tmp_path / "ds", seed=3)

    schema = read_schema(tmp_path / "ds")
    assert schema == built.schema
    assert [(c.name, c.key, c.kind) for c in schema.features] == [
        ("age", "age", "numeric"),
        ("income (k)", "income_k", "numeric"),
        ("city", "city", "categorical"),
    ]
    assert schema.label.classes == ("no", "yes")
    assert sum(built.rows.values()) == 4000
    assert built.rows["validation"] == pytest.approx(400, abs=2)
    # every 40th age and every 55th city were left empty: filled, and counted
    assert built.filled == {"age": 100, "income (k)": 0, "city": 73}
    ages = next(c for c in schema.features if c.key == "age")
    stats = json.loads((tmp_path / "ds" / "statistics.json").read_text())
    assert ages.fill == pytest.approx(stats["columns"]["age"]["median"], abs=1e-4)
    assert stats["columns"]["city"]["vocabulary"]["[MISSING]"] > 0
    assert set(stats["label"]["train"]["distribution"]) == {"no", "yes"}
    features, _ = read_split(tmp_path / "ds", "train")
    assert not np.isnan(features["age"]).any()


def test_split_is_stratified_and_deterministic(people_csv: Path, tmp_path: Path) -> None:
    a = build_dataset(people_csv, SPEC, tmp_path / "a", seed=1)
    build_dataset(people_csv, SPEC, tmp_path / "b", seed=1)
    c = build_dataset(people_csv, SPEC, tmp_path / "c", seed=2)
    train = (tmp_path / "a" / "train.csv").read_text()
    assert train == (tmp_path / "b" / "train.csv").read_text()
    assert train != (tmp_path / "c" / "train.csv").read_text()
    shares = {
        split: a.statistics["label"][split]["distribution"]["yes"] / a.rows[split]
        for split in ("train", "validation", "test")
    }
    assert max(shares.values()) - min(shares.values()) < 0.01
    assert c.rows == a.rows


def test_missing_label_rows_are_dropped_and_counted(
    make_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = classification_rows(200)
    rows[10][4] = None
    rows[20][4] = None
    built = build_dataset(write_rows(make_csv("", "x.csv"), HEADER, rows), SPEC, tmp_path / "ds")
    assert built.dropped == {"missing label": 2}
    assert sum(built.rows.values()) == 198


BAD = {
    "empty file": ("", ["empty file"]),
    "wrong delimiter": ("a;b;label\n1;2;x\n", ["line 1", "';'-separated"]),
    "tab delimiter": ("a\tb\tlabel\n1\t2\tx\n", ["line 1", "'\\t'-separated"]),
    "duplicate column": ("a,b,a,label\n1,2,3,x\n", ["line 1", "column 'a'", "duplicate"]),
    "missing column": ("age,city,labels\n1,x,y\n", ["column 'label'", "did you mean 'labels'"]),
    "non-numeric": (
        "age,city,label\n1,x,yes\n2,y,no\nabc,z,yes\n",
        ["line 4", "column 'age'", "expected a number, found 'abc'"],
    ),
    "bad row": (
        "age,city,label\n1,x,yes\n2,y,no\n\n3,z,yes,extra\n",
        ["line 5", "expected 3 fields, found 4"],
    ),
    "unknown class": (
        "age,city,label\n1,x,yes\n2,y,maybe\n",
        ["line 3", "column 'label'", "'maybe' is not one of the classes ['no', 'yes']"],
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_names_line_and_column(make_csv: Callable[..., Path], case: str) -> None:
    text, expected = BAD[case]
    spec = DatasetSpec(label="label", numeric=("age",), classes=("no", "yes"))
    if case in {"wrong delimiter", "tab delimiter", "duplicate column"}:
        spec = DatasetSpec(label="label")
    with pytest.raises(DataError) as err:
        build_dataset(make_csv(text), spec, make_csv("", "unused").parent / "out")
    for part in expected:
        assert part in str(err.value)


def test_non_utf8_names_line_and_byte_offset(make_csv: Callable[..., Path], tmp_path: Path) -> None:
    text = "age,city,label\n1,paris,yes\n2,K\xf6ln,no\n".encode("latin-1")
    with pytest.raises(DataError, match=r"line 3: not UTF-8: byte offset 30"):
        build_dataset(make_csv(text), DatasetSpec(label="label"), tmp_path / "out")


def test_fail_policy_reports_missing_cells(make_csv: Callable[..., Path], tmp_path: Path) -> None:
    path = make_csv("age,city,label\n1,x,yes\n,y,no\n3,,yes\n")
    spec = DatasetSpec(label="label", missing={"age": "fail", "city": "fail"})
    with pytest.raises(DataError) as err:
        build_dataset(path, spec, tmp_path / "out")
    assert "line 3, column 'age': missing value (policy: fail)" in str(err.value)
    assert "line 4, column 'city': missing value (policy: fail)" in str(err.value)


def test_all_problems_listed_and_capped(make_csv: Callable[..., Path], tmp_path: Path) -> None:
    lines = ["age,label"] + [f"{'bad' if i % 2 else i},yes" for i in range(60)] + ["1,no"]
    with pytest.raises(DataError) as err:
        spec = DatasetSpec(label="label", numeric=("age",))
        build_dataset(make_csv("\n".join(lines)), spec, tmp_path / "out")
    assert len(err.value.problems) == 30
    assert "line 3, column 'age': expected a number, found 'bad'" in str(err.value)
    assert "... and 10 more" in str(err.value)


def test_inspect_infers_kinds(people_csv: Path) -> None:
    profile = inspect_csv(people_csv)
    kinds = {c.name: (c.kind, c.missing) for c in profile.columns}
    assert profile.rows == 4000
    assert kinds["age"] == ("numeric", 100)
    assert kinds["city"] == ("categorical", 73)
    spec = profile.spec("label", ignore=("row id",))
    assert spec.numeric == ("age", "income (k)") and spec.categorical == ("city",)


@pytest.fixture(scope="module")
def ids_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2000 rows whose `id` feature is the file row: shows where a batch's rows come from."""
    root = tmp_path_factory.mktemp("ids")
    rows = [[i, f"c{i % 3}", "yes" if i % 2 else "no"] for i in range(2000)]
    path = write_rows(root / "ids.csv", ["id", "cat", "label"], rows)
    build_dataset(path, DatasetSpec(label="label"), root / "ds", fractions=(1.0, 0.0, 0.0))
    return root / "ds"


def _epoch_ids(ds: object) -> list[np.ndarray]:
    return [features["id"].numpy().astype(int) for features, _ in ds]  # type: ignore[attr-defined]


def test_shuffle_mixes_rows_from_across_the_file_every_epoch(ids_dataset: Path) -> None:
    ds = load_split(ids_dataset, "train", batch_size=100, seed=7)
    first, second = _epoch_ids(ds), _epoch_ids(ds)
    assert np.ptp(first[0]) > 1500  # one batch spans most of the file, not a 1000-row window
    assert len({tuple(b) for b in first[:3]}) == 3
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    for epoch in (first, second):
        assert sorted(np.concatenate(epoch)) == list(range(2000))  # each row once
    again = _epoch_ids(load_split(ids_dataset, "train", batch_size=100, seed=7))
    assert np.array_equal(np.concatenate(again), np.concatenate(first))


def test_unshuffled_and_streaming_paths_deliver_the_same_rows(ids_dataset: Path) -> None:
    ordered = np.concatenate(_epoch_ids(load_split(ids_dataset, "train", shuffle=False)))
    streamed = _epoch_ids(load_split(ids_dataset, "train", streaming=True, batch_size=128))
    assert np.array_equal(np.sort(ordered), np.sort(np.concatenate(streamed)))
    assert len(streamed[0]) == 128
    assert not np.array_equal(np.concatenate(streamed), ordered)  # shuffled by the buffer
    features, label = next(iter(load_split(ids_dataset, "train", streaming=True)))
    assert features["cat"].dtype.name == "string" and label.dtype.name == "int32"


def test_automatic_choice_streams_over_the_memory_budget(
    ids_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ml.data.dataset

    calls: list[Path] = []
    real = ml.data.dataset.streaming_dataset

    def spy(path: Path, *args: object, **kwargs: object) -> object:
        calls.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ml.data.dataset, "streaming_dataset", spy)
    load_split(ids_dataset, "train", memory_budget=1 << 30)
    assert calls == []
    ds = load_split(ids_dataset, "train", memory_budget=10)
    assert calls == [ids_dataset / "train.csv"]
    assert sum(len(label) for _, label in ds) == 2000


def test_passes_go_over_every_row_once_each_in_a_new_order(ids_dataset: Path) -> None:
    ds = load_split(ids_dataset, "train", batch_size=100, seed=7, passes=3)
    assert ds.cardinality().numpy() == 60
    ids = np.concatenate(_epoch_ids(ds))
    passes = ids.reshape(3, 2000)
    for one in passes:
        assert sorted(one) == list(range(2000))
    assert not np.array_equal(passes[0], passes[1])
