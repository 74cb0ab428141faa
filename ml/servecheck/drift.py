"""Before (the release record's offline metrics) vs after (through the endpoint): the verdict.

The rule depends on whether the holdout is the rows the offline metrics were computed on
(the same row count as the release's `rows` metric):

- **Same rows.** Accuracy-like metrics (accuracy, auc, ...: shares between 0 and 1) are
  compared by absolute difference, strictly by default: the same model on the same rows
  gives the same numbers, and one row predicted differently is already skew. Other metrics
  (loss, mae, rmse: any scale) are compared relative to the offline value, by default within
  0.1% (float32 arithmetic of another batch split).
- **Other rows** (another holdout). Two samples of the same model differ by chance, so only a
  difference the row counts can tell apart is drift: accuracy (a share of rows) drifts when
  the 95% interval of the difference of two independent proportions (Newcombe's hybrid score
  interval, from Wilson intervals of each side) excludes 0, and the difference is beyond the
  tolerance too. Metrics that are not a share of rows are shown, not judged.
- Unknown offline row count: judged as the same rows (strict), and the report says so.

A drift in either direction fails: a better number is a different model too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from ml.components.core.comparison import LOWER_IS_BETTER, NOT_CHARTED

#: Shares in [0, 1], compared by absolute difference.
ACCURACY_LIKE = frozenset({"accuracy", "auc", "precision", "recall", "f1"})
#: Default tolerance of accuracy-like metrics (absolute): strict.
ACCURACY_TOLERANCE = 0.0
#: Default tolerance of the other metrics (relative to the offline value).
RELATIVE_TOLERANCE = 1e-3
#: Float noise never counted as drift.
_SLACK = 1e-9
#: The two-sided 95% normal quantile of the intervals on other rows.
_Z95 = 1.959963984540054
#: The metrics that are a share of rows (their interval is known on other rows).
ROW_SHARES = frozenset({"accuracy"})

Kind = Literal["absolute", "relative"]


@dataclass(frozen=True)
class Tolerances:
    """How far each metric may move: per metric, else by kind."""

    accuracy: float = ACCURACY_TOLERANCE
    relative: float = RELATIVE_TOLERANCE
    per_metric: Mapping[str, float] = field(default_factory=dict)

    def of(self, metric: str) -> tuple[float, Kind]:
        """The tolerance of `metric` and how it applies."""
        kind: Kind = "absolute" if metric in ACCURACY_LIKE else "relative"
        default = self.accuracy if kind == "absolute" else self.relative
        return self.per_metric.get(metric, default), kind


def parse_tolerances(items: Iterable[str]) -> Tolerances:
    """Read `--tolerance` values: `METRIC=VALUE` for one metric, `VALUE` for all of them.

    Raises:
        ValueError: a value that is not a non-negative number.

    """
    per_metric: dict[str, float] = {}
    everything: float | None = None
    for item in items:
        name, _, text = item.rpartition("=")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"--tolerance {item!r}: expected METRIC=VALUE or VALUE, a number >= 0 "
                "(absolute for accuracy and auc, relative for loss, mae, rmse)"
            )
        if name:
            per_metric[name.strip()] = value
        else:
            everything = value
    if everything is None:
        return Tolerances(per_metric=per_metric)
    return Tolerances(accuracy=everything, relative=everything, per_metric=per_metric)


@dataclass(frozen=True)
class MetricCheck:
    """One metric before and after, and whether it drifted."""

    metric: str
    before: float
    after: float
    tolerance: float
    kind: Kind
    lower_is_better: bool
    rule: str = "same rows: within tolerance"
    interval: tuple[float, float] | None = None  # of after - before, on other rows
    judged: bool = True

    @property
    def difference(self) -> float:
        """After minus before."""
        return self.after - self.before

    @property
    def allowed(self) -> float:
        """The largest absolute difference within tolerance."""
        scale = abs(self.before) if self.kind == "relative" else 1.0
        return self.tolerance * scale + _SLACK

    @property
    def drifted(self) -> bool:
        """Whether the difference is beyond the tolerance (and, on other rows, chance)."""
        if not self.judged:
            return False
        beyond = abs(self.difference) > self.allowed
        if self.interval is None:
            return beyond
        low, high = self.interval
        return beyond and not low <= 0.0 <= high

    @property
    def direction(self) -> str:
        """Better, worse or the same through the endpoint ("better", "worse", "same")."""
        if self.difference == 0:
            return "same"
        improved = (self.difference < 0) == self.lower_is_better
        return "better" if improved else "worse"


def wilson(share: float, rows: int) -> tuple[float, float]:
    """Return the 95% Wilson score interval of a share observed on `rows` rows."""
    z2 = _Z95 * _Z95
    center = (share + z2 / (2 * rows)) / (1 + z2 / rows)
    half = _Z95 * math.sqrt(share * (1 - share) / rows + z2 / (4 * rows * rows)) / (1 + z2 / rows)
    return max(0.0, center - half), min(1.0, center + half)


def difference_interval(
    before: float, rows_before: int, after: float, rows_after: int
) -> tuple[float, float]:
    """Return the 95% interval of `after - before` for two independent shares (Newcombe).

    Newcombe's hybrid score interval (method 10 of his 1998 comparison): each side's Wilson
    interval, combined; it stays sensible at shares of 0 or 1, where the normal one collapses.
    """
    low_b, high_b = wilson(before, rows_before)
    low_a, high_a = wilson(after, rows_after)
    difference = after - before
    return (
        difference - math.hypot(after - low_a, high_b - before),
        difference + math.hypot(high_a - after, before - low_b),
    )


def compare(
    before: Mapping[str, float],
    after: Mapping[str, float],
    tolerances: Tolerances,
    *,
    rows_before: int | None = None,
    rows_after: int | None = None,
) -> list[MetricCheck]:
    """Check every metric both sides have (counts such as `rows` left out), sorted by name.

    `rows_before`/`rows_after`: the rows each side was measured on; when both are known and
    differ, the holdout is other rows than the offline evaluation's (see the module rules).
    """
    other_rows = rows_before is not None and rows_after is not None and rows_before != rows_after
    names = sorted((set(before) & set(after)) - NOT_CHARTED)
    checks = []
    for name in names:
        tolerance, kind = tolerances.of(name)
        check = MetricCheck(
            metric=name,
            before=float(before[name]),
            after=float(after[name]),
            tolerance=tolerance,
            kind=kind,
            lower_is_better=name in LOWER_IS_BETTER,
        )
        if other_rows and rows_before and rows_after and name in ROW_SHARES:
            interval = difference_interval(check.before, rows_before, check.after, rows_after)
            check = replace(
                check,
                interval=interval,
                rule=f"other rows ({rows_before} offline, {rows_after} here): drift only when "
                f"the 95% interval of the difference [{interval[0]:+.3g}, {interval[1]:+.3g}] "
                "excludes 0",
            )
        elif other_rows:
            check = replace(
                check, judged=False, rule="other rows: not a share of rows, shown, not judged"
            )
        checks.append(check)
    return checks


def drifted(checks: Iterable[MetricCheck]) -> list[str]:
    """The names of the metrics that drifted."""
    return [c.metric for c in checks if c.drifted]
