"""ISO date columns read as one ordered number (ml.data.dates) and rare values (the model)."""

from __future__ import annotations

import pytest

from ml.data.dates import date_summary, year_fraction
from ml.model.network import MIN_VALUE_ROWS, frequent_values


def test_year_fraction_orders_dates() -> None:
    assert year_fraction("1970-01-01") == 1970.0
    assert year_fraction("2024-07-01") == pytest.approx(2024.5)
    assert year_fraction("2024-07-01T10:00:00") == year_fraction("2024-07-01")
    assert year_fraction("1999-12-31") < year_fraction("2000-01-01")


def test_date_summary_weights_by_counts_and_skips_missing() -> None:
    summary = date_summary({"1970-01-01": 3, "1972-01-01": 1, "[MISSING]": 5}, "[MISSING]")
    assert summary is not None
    mean, std = summary
    assert mean == pytest.approx(1970.5)
    assert std == pytest.approx((3 * 0.5**2 + 1 * 1.5**2) ** 0.5 / 2)


@pytest.mark.parametrize(
    "counts",
    [
        {"1970-01-01": 3, "red": 1},  # one value is not a date
        {"1970-01-01": 3},  # a single date: nothing to order
        {"1970-1-1": 2, "1971-1-1": 2},  # not ISO
    ],
)
def test_date_summary_refuses_non_date_columns(counts: dict[str, int]) -> None:
    assert date_summary(counts, "[MISSING]") is None


def test_rare_values_share_the_oov_slot() -> None:
    counts = {"ford pinto": MIN_VALUE_ROWS, "amc gremlin": MIN_VALUE_ROWS - 1, "x": 1}
    assert frequent_values(counts) == ["ford pinto"]
