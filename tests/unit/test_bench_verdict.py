"""bench_quality's verdict: a miss the test rows cannot confirm is `unresolved`, never `ok`."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.bench_module import load

verdict_module = load("quality_verdict")


def _rows(total: int, wrong: list[int]) -> np.ndarray:
    right = np.ones(total, dtype=bool)
    right[wrong] = False
    return right


def test_paired_difference_counts_only_rows_one_model_gets_right() -> None:
    # 102 rows: ours misses rows 0-1, theirs misses 5-7; both right elsewhere
    diff, low, high = verdict_module.paired_difference(_rows(102, [0, 1]), _rows(102, [5, 6, 7]))
    assert diff == pytest.approx(1 / 102)
    assert low < 0 < high  # 2 against 3 discordant rows: no side shown better
    assert verdict_module.paired_difference(_rows(10, []), _rows(10, [])) == (0.0, 0.0, 0.0)


def test_one_row_on_a_small_split_is_unresolved_many_rows_are_missed() -> None:
    # one row in 18 (5.6 points) per seed: the rows cannot tell it from a 1-point gap
    _, _, high = verdict_module.paired_difference(_rows(54, [0, 1]), _rows(54, []))
    assert verdict_module.verdict(-2 / 54, high, cpu=20.0) == "unresolved"
    # 60 more rows wrong in 1000: clearly beyond the tolerance
    _, _, high = verdict_module.paired_difference(_rows(1000, list(range(60))), _rows(1000, []))
    assert high < -verdict_module.TOLERANCE
    assert verdict_module.verdict(-0.06, high, cpu=20.0) == "MISSED"


def test_within_tolerance_is_ok_unless_training_took_too_long() -> None:
    assert verdict_module.verdict(-0.005, -0.5, cpu=20.0) == "ok"
    assert verdict_module.verdict(0.0, 0.0, cpu=verdict_module.TIME_LIMIT) == "MISSED (time)"
