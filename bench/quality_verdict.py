"""bench_quality's verdict: the 1-point rule, and what the test rows can tell apart.

The rule is stated in `bench_quality`'s docstring (and the README): `ok` within the
tolerance, `MISSED` when a paired 95% interval lies wholly beyond it, else `unresolved`.
"""

from __future__ import annotations

import numpy as np

#: kfstack may be this far (a share of rows) below the better baseline.
TOLERANCE = 0.01
#: CPU seconds one training (build + train + export) may take.
TIME_LIMIT = 60.0


def paired_difference(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float, float]:
    """Accuracy difference of two models on the same rows, with an exact 95% interval.

    Only the rows exactly one of them gets right carry the difference: given their number
    n, the count b that `theirs` alone gets right is binomial, and the Clopper-Pearson
    interval of its share gives the interval of (n - 2 b) / rows.
    """
    from scipy.stats import binomtest

    rows = len(ours)
    b = int(np.sum(~ours & theirs))
    n = b + int(np.sum(ours & ~theirs))
    if n == 0:
        return 0.0, 0.0, 0.0
    low, high = binomtest(b, n).proportion_ci(0.95, method="exact")
    return (n - 2 * b) / rows, (n - 2 * n * high) / rows, (n - 2 * n * low) / rows


def verdict(gap: float, interval_high: float, cpu: float) -> str:
    """`ok`, `MISSED` or `unresolved` (the module docstring says when)."""
    if cpu >= TIME_LIMIT:
        return "MISSED (time)"
    if gap >= -TOLERANCE:
        return "ok"
    return "MISSED" if interval_high < -TOLERANCE else "unresolved"
