"""Date columns in their common spellings, read as one ordered number (ml.data.dates)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.data import DatasetSpec, build_dataset, inspect_csv
from ml.data.dates import date_summary, detect_format, is_epoch_seconds, year_fraction
from ml.model.architecture import MIN_VALUE_ROWS, frequent_values
from tests.ml.conftest import write_rows

#: The same three instants in each spelling the rule recognises.
SPELLINGS = {
    "iso": ["2012-01-01", "2012-07-01", "2013-12-31"],
    "ymd-slash": ["2012/01/01", "2012/07/01", "2013/12/31"],
    "dmy-dot": ["01.01.2012", "1.7.2012", "31.12.2013"],
    "mdy-slash": ["01/01/2012", "7/1/2012", "12/31/2013"],
    "dmy-slash": ["01/01/2012", "1/7/2012", "31/12/2013"],
}


@pytest.mark.parametrize(("spelling", "values"), SPELLINGS.items())
def test_each_spelling_is_recognised_and_read_the_same(spelling: str, values: list[str]) -> None:
    assert detect_format(values) == spelling
    read = [year_fraction(v, spelling) for v in values]
    assert read == [year_fraction(v) for v in SPELLINGS["iso"]]
    assert read[0] == 2012.0 and read[1] == pytest.approx(2012.5)


def test_iso_with_time_and_zone() -> None:
    values = ["2024-07-01T02:00:00+02:00", "2024-07-01 00:00Z", "2024-07-01T05:30:00.250-0530"]
    assert detect_format(values) == "iso"
    utc = [year_fraction(v) for v in values]
    assert utc[0] == pytest.approx(utc[1])
    assert utc[2] == pytest.approx(year_fraction("2024-07-01T11:00:00Z"), abs=1e-9)
    assert year_fraction("2024-07-01T12:00:00") == pytest.approx(2024.5 + 0.5 / 365)


@pytest.mark.parametrize(
    ("values", "found"),
    [
        (["01/02/2012", "03/04/2012"], "ambiguous"),  # every value reads both ways
        (["13/12/2012", "12/13/2012"], None),  # a day above 12 in both places
        (["2012-13-01", "2012-01-01"], None),  # month 13
        (["2012-01-01", "red"], None),  # one value is not a date
        (["2012-01-01"], None),  # a single date: nothing to order
        (["12.5", "13.75"], None),  # numbers
        (["2012/01/01", "01.02.2012"], None),  # two spellings
    ],
)
def test_what_is_not_a_date_column(values: list[str], found: str | None) -> None:
    assert detect_format(values) == found


@pytest.mark.parametrize(
    ("values", "found"),
    [
        # monthly on the 1st: the second place never changes, the first is the month
        (["01/01/2000", "02/01/2000", "12/01/2000", "01/01/2001"], "mdy-slash"),
        # the first place never changes: the second is the month
        (["01/01/2000", "01/02/2000", "01/12/2000", "01/01/2001"], "dmy-slash"),
    ],
)
def test_one_fixed_place_reads_the_other_as_the_month(values: list[str], found: str) -> None:
    assert detect_format(values) == found
    # the values in file order are in time order under either reading
    assert [year_fraction(v, found) for v in values] == sorted(
        year_fraction(v, found) for v in values
    )
    other = "dmy-slash" if found == "mdy-slash" else "mdy-slash"
    assert np.argsort([year_fraction(v, other) for v in values]).tolist() == list(
        range(len(values))
    )


def test_epoch_seconds_where_the_header_says_so() -> None:
    seconds = [1.6e9, 1.7e9, 1_700_000_123.0]
    assert is_epoch_seconds("created_ts", seconds)
    assert is_epoch_seconds("unixTime", seconds)
    assert is_epoch_seconds("Timestamp", seconds)
    assert not is_epoch_seconds("amount", seconds)  # the header does not say so
    assert not is_epoch_seconds("timestamp", [1.6e9, 12.5])  # not whole seconds in range
    assert not is_epoch_seconds("starts", seconds)  # "ts" must be a word of its own


def test_date_summary_weights_by_counts_and_skips_missing() -> None:
    summary = date_summary({"1970-01-01": 3, "1972-01-01": 1, "[MISSING]": 5}, "[MISSING]")
    assert summary is not None
    mean, std = summary
    assert mean == pytest.approx(1970.5)
    assert std == pytest.approx((3 * 0.5**2 + 1 * 1.5**2) ** 0.5 / 2)
    dots = date_summary({"01.01.1970": 3, "1.1.1972": 1}, "[MISSING]", "dmy-dot")
    assert dots == pytest.approx(summary)


@pytest.mark.parametrize("spelling", [*SPELLINGS, "iso-zoned"])
def test_the_layer_reads_like_python(spelling: str) -> None:
    import numpy as np
    import tensorflow as tf

    from ml.data import date_layer

    if spelling == "iso-zoned":
        values = ["2024-07-01T02:00:00+02:00", "2024-07-01 00:00Z", "2024-07-01T05:30-0530"]
        spelling = "iso"
    else:
        values = SPELLINGS[spelling]
    layer = date_layer()(2012.0, 0.5, spelling=spelling)
    out = layer(tf.constant([*values, "", "not a date"])).numpy()[:, 0]
    expected = [(year_fraction(v, spelling) - 2012.0) / 0.5 for v in values]
    np.testing.assert_allclose(out[:-2], expected, rtol=1e-6, atol=1e-5)
    assert list(out[-2:]) == [0.0, 0.0]  # missing and unreadable cells get the mean


def test_build_records_each_date_column_and_inspect_never_calls_it_an_id(tmp_path: Path) -> None:
    header = ["slash", "dots", "us", "stamp", "created_ts", "label"]
    rows = []
    for i in range(60):
        day, month = 1 + i % 28, 1 + i % 12
        rows.append(
            [
                f"{2000 + i}/{month:02d}/{day:02d}",
                f"{day}.{month}.{2000 + i}",
                f"{month}/{day}/{2000 + i}",
                f"{2000 + i}-{month:02d}-{day:02d}T10:{i % 60:02d}:00Z",
                1_600_000_000 + i * 86_400,
                "ab"[i % 2],
            ]
        )
    csv = write_rows(tmp_path / "dates.csv", header, rows)
    built = build_dataset(csv, DatasetSpec(label="label"), tmp_path / "ds")
    dates = {c.name: c.date for c in built.schema.features}
    assert dates == {
        "slash": "ymd-slash",
        "dots": "dmy-dot",
        "us": "mdy-slash",
        "stamp": "iso",
        "created_ts": "epoch-seconds",
    }
    profile = inspect_csv(csv)
    assert not [f for f in profile.findings if "ID-like" in f.problem]
    assert {c.name: c.date for c in profile.columns}["dots"] == "dmy-dot"


def test_rare_values_share_the_oov_slot() -> None:
    counts = {"ford pinto": MIN_VALUE_ROWS, "amc gremlin": MIN_VALUE_ROWS - 1, "x": 1}
    assert frequent_values(counts) == ["ford pinto"]
