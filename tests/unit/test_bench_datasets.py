"""bench_quality's data sets: each says what it stresses; the statsmodels ones keep every row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.unit.bench_module import load

datasets = load("quality_datasets")


def test_every_data_set_says_what_it_stresses() -> None:
    assert list(datasets.DATASETS) == list(datasets.STRESSES)
    assert all(datasets.STRESSES.values())


def test_fair_is_the_wheels_file_with_a_numeric_label(tmp_path: Path) -> None:
    path, label = datasets.DATASETS["fair"](tmp_path)
    frame = pd.read_csv(path)
    assert (len(frame), label) == (6366, "rate_marriage")
    assert sorted(frame[label].unique()) == [1, 2, 3, 4, 5]


def test_randhie_health_is_one_label_of_every_row(tmp_path: Path) -> None:
    path, label = datasets.DATASETS["randhie"](tmp_path)
    frame = pd.read_csv(path)
    raw = pd.read_csv(datasets._statsmodels("randhie"))
    assert (len(frame), label) == (len(raw), "health")
    assert not {"hlthg", "hlthf", "hlthp"} & set(frame.columns)
    counts = frame[label].value_counts().to_dict()
    assert counts == {
        "excellent": int(((raw.hlthg + raw.hlthf + raw.hlthp) == 0).sum()),
        "good": int(raw.hlthg.sum()),
        "fair": int(raw.hlthf.sum()),
        "poor": int(raw.hlthp.sum()),
    }
