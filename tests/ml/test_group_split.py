"""Split by group (`data build --group COL`): a group's rows never straddle two splits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from ml.data import DataError, DatasetSpec, build_dataset, read_schema
from ml.data.splits import count_groups, group_split

Main = Callable[[list[str]], int]


def _people_years(people: int = 60, years: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Group (person id) and class of each row: a person's rows share their class."""
    groups = np.array([f"p{i // years}" for i in range(people * years)], dtype=object)
    strata = np.array([(i // years) % 3 for i in range(people * years)])
    return groups, strata


def _split_of_group(groups: np.ndarray, parts: dict[str, np.ndarray]) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for name, rows in parts.items():
        for group in groups[rows]:
            seen.setdefault(group, set()).add(name)
    return seen


def test_every_group_lies_in_one_split_with_shares_close_to_the_fractions() -> None:
    groups, strata = _people_years()
    parts = group_split(groups, (0.8, 0.1, 0.1), seed=0, column="person", strata=strata)
    assert sorted(np.concatenate(list(parts.values()))) == list(range(len(groups)))
    assert all(len(splits) == 1 for splits in _split_of_group(groups, parts).values())
    # 60 groups of 4 rows: each split within one group of its share
    assert abs(len(parts["train"]) - 192) <= 4
    assert abs(len(parts["validation"]) - 24) <= 4
    assert abs(len(parts["test"]) - 24) <= 4


def test_the_seed_decides_which_groups_are_held_out() -> None:
    groups, _ = _people_years()
    first = group_split(groups, (0.8, 0.1, 0.1), seed=0, column="person")
    again = group_split(groups, (0.8, 0.1, 0.1), seed=0, column="person")
    other = group_split(groups, (0.8, 0.1, 0.1), seed=1, column="person")
    assert all((first[k] == again[k]).all() for k in first)
    assert set(groups[first["test"]]) != set(groups[other["test"]])


def test_a_missing_group_cell_is_a_group_of_its_own_row() -> None:
    groups = np.array(["a", None, "a", None, "b", "c"], dtype=object)
    assert count_groups(groups) == 5  # a, b, c and two rows without a group


def test_every_split_with_a_share_gets_a_group_even_from_three() -> None:
    # three groups of equal size: cutting by the middles alone leaves test empty
    groups = np.array(["a"] * 5 + ["b"] * 5 + ["c"] * 5, dtype=object)
    parts = group_split(groups, (0.8, 0.1, 0.1), seed=0, column="shop")
    assert all(len(parts[name]) == 5 for name in ("train", "validation", "test"))


def test_too_few_groups_name_the_column() -> None:
    groups = np.array(["a"] * 5 + ["b"] * 5, dtype=object)
    with pytest.raises(DataError, match=r"2 distinct value\(s\) of 'shop'.*at least 3"):
        group_split(groups, (0.8, 0.1, 0.1), seed=0, column="shop")


def test_a_class_with_no_train_row_is_refused_before_training() -> None:
    # class 1 lives in one group only; with seed 0 it is held out of train
    groups = np.array([f"g{i}" for i in range(20)] + ["rare"] * 3, dtype=object)
    strata = np.array([0] * 20 + [1] * 3)
    for seed in range(20):
        parts = group_split(groups, (0.5, 0.25, 0.25), seed=seed, column="person")
        if "rare" not in set(groups[parts["train"]]):
            break
    else:
        pytest.fail("no seed held the rare group out of train")
    with pytest.raises(DataError, match="no train row of class 'rare class'"):
        group_split(
            groups,
            (0.5, 0.25, 0.25),
            seed=seed,
            column="person",
            strata=strata,
            names=("common", "rare class"),
        )


def test_the_group_column_is_neither_the_label_nor_a_feature() -> None:
    with pytest.raises(ValidationError, match="group column 'y' is the label"):
        DatasetSpec(label="y", group="y")
    with pytest.raises(ValidationError, match="group column 'id' is the label or a declared"):
        DatasetSpec(label="y", numeric=("id",), group="id")


def _person_years_csv(path: Path) -> Path:
    # 50 people, 4 rows (years) each with the person's features: a split by rows shares them
    lines = ["person,income,plan,health"]
    lines += [f"id{i % 50},{1000 + 37 * (i % 50)},{i % 5},{'ab'[(i % 50) % 2]}" for i in range(200)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_build_by_group_tests_people_it_has_not_seen(tmp_path: Path) -> None:
    csv = _person_years_csv(tmp_path / "years.csv")
    by_rows = build_dataset(csv, DatasetSpec(label="health"), tmp_path / "rows")
    built = build_dataset(csv, DatasetSpec(label="health", group="person"), tmp_path / "people")
    assert by_rows.statistics["seen_in_train"]["test"] > 0
    assert built.statistics["seen_in_train"] == {"validation": 0, "test": 0}
    assert [c.name for c in read_schema(built.directory).features] == ["income", "plan"]
    split_by = built.statistics["split_by"]
    assert split_by["column"] == "person"
    assert sum(split_by["groups"].values()) == 50
    assert "split_by" not in by_rows.statistics


def test_a_group_column_not_in_the_header_is_named_with_a_close_match(tmp_path: Path) -> None:
    csv = _person_years_csv(tmp_path / "years.csv")
    with pytest.raises(DataError, match=r"column 'persons': not in the header.*'person'"):
        build_dataset(csv, DatasetSpec(label="health", group="persons"), tmp_path / "o")


def test_rows_dropped_for_a_missing_label_take_their_group_cell_with_them(tmp_path: Path) -> None:
    csv = tmp_path / "gaps.csv"
    rows = [f"g{i % 12},{i},{'xy'[i % 2] if i % 7 else ''}" for i in range(60)]
    csv.write_text("shop,x,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    built = build_dataset(csv, DatasetSpec(label="y", group="shop"), tmp_path / "o")
    assert sum(built.rows.values()) == 60 - 9  # 9 rows without a label dropped
    assert sum(built.statistics["split_by"]["groups"].values()) == 12


def test_cli_build_by_group_prints_the_groups(
    kfstack: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _person_years_csv(tmp_path / "years.csv")
    args = ["data", "build", "--csv", str(csv), "--label", "health", "--out", str(tmp_path / "o")]
    assert kfstack([*args, "--group", "person"]) == 0
    out = capsys.readouterr().out
    assert "split by 'person', groups: train " in out
    assert "note:" not in out  # no test row repeats a train row: other people
    assert "'person' ->" not in out  # not a feature


def test_the_pipeline_parameter_carries_the_group_and_old_specs_stay_as_they_were() -> None:
    from ml.components.core.ingest import dataset_spec, spec_parameter

    spec = DatasetSpec(label="health", group="person")
    assert spec_parameter(spec) == {"label": "health", "group": "person"}
    assert dataset_spec(spec_parameter(spec)) == spec
    # a spec without a group passes no `group` key: images built before it read it as before
    assert "group" not in spec_parameter(DatasetSpec(label="health"))
