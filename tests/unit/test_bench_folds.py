"""bench_quality's k-fold on small files: every row tested once per seed, nothing else changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.data import DatasetSpec, build_dataset, read_split
from tests.unit.bench_module import load

folds_module = load("quality_folds")


def test_small_files_are_folded_by_the_default_test_share() -> None:
    # the default test share is 0.1: 1000 rows give a test split of 100, enough on its own
    assert folds_module.default_fractions() == (0.8, 0.1, 0.1)
    assert folds_module.folds_for(1000) == 1
    assert folds_module.folds_for(999) == 10
    assert folds_module.folds_for(150) == 10


def test_each_row_is_tested_in_exactly_one_fold_and_trains_in_the_others() -> None:
    strata = np.repeat([0, 1, 2], [60, 30, 9])
    tested = np.zeros(len(strata), dtype=int)
    for fold in range(10):
        parts = folds_module.fold_split(len(strata), fold=fold, folds=10, seed=3, strata=strata)
        every = np.concatenate([parts["train"], parts["validation"], parts["test"]])
        assert sorted(every) == list(range(len(strata)))  # a partition of the rows
        tested[parts["test"]] += 1
        # class shares kept: each fold tests a tenth of the 60 and of the 30 rows
        assert np.sum(strata[parts["test"]] == 0) == 6
        assert np.sum(strata[parts["test"]] == 1) == 3
        # the rest cut 8 : 1 as the default 80 : 10
        assert np.sum(strata[parts["validation"]] == 0) == round(54 / 9)
    assert (tested == 1).all()


def test_another_seed_tests_other_rows() -> None:
    first = folds_module.fold_split(100, fold=0, folds=10, seed=0)["test"]
    second = folds_module.fold_split(100, fold=0, folds=10, seed=1)["test"]
    assert len(first) == len(second) == 10
    assert set(first) != set(second)


def test_a_build_inside_held_out_tests_the_fold_and_nothing_else(tmp_path: Path) -> None:
    rows = 120
    csv = tmp_path / "data.csv"
    labels = ["a" if i % 3 else "b" for i in range(rows)]
    csv.write_text(
        "row,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels)),
        encoding="utf-8",
    )
    expected = folds_module.fold_split(
        rows, fold=4, folds=10, seed=2, strata=np.array([label == "b" for label in labels])
    )
    with folds_module.held_out(4, 10):
        built = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds", seed=2)
    for split in ("train", "validation", "test"):
        features, _ = read_split(built.directory, split)
        assert sorted(features["row"].astype(int)) == sorted(expected[split])
    # outside the block the default split is back
    default = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "default", seed=2)
    features, _ = read_split(default.directory, "test")
    assert sorted(features["row"].astype(int)) != sorted(expected["test"])


def test_quoted_line_breaks_stay_inside_one_row(tmp_path: Path) -> None:
    csv = tmp_path / "notes.csv"
    csv.write_text('note,label\n"two\nlines",a\nplain,b\n', encoding="utf-8")
    assert folds_module.data_rows(csv) == 2


@pytest.mark.parametrize("fold", [-1, 10])
def test_a_fold_outside_the_folds_is_refused(fold: int) -> None:
    with pytest.raises(ValueError, match=r"fold must be in 0\.\.9"):
        folds_module.fold_split(50, fold=fold, folds=10, seed=0)
