"""Before (the release record's offline metrics) vs after (through the endpoint): the verdict.

Accuracy-like metrics (accuracy, auc: shares between 0 and 1) are compared by absolute
difference, strictly by default: the same model on the same rows gives the same numbers, and
one row predicted differently is already skew. Other metrics (loss, mae, rmse: any scale) are
compared relative to the offline value, by default within 0.1% (float32 arithmetic of another
batch split). A drift in either direction fails: a better number is a different model too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
        """Whether the difference is beyond the tolerance."""
        return abs(self.difference) > self.allowed

    @property
    def direction(self) -> str:
        """Better, worse or the same through the endpoint ("better", "worse", "same")."""
        if self.difference == 0:
            return "same"
        improved = (self.difference < 0) == self.lower_is_better
        return "better" if improved else "worse"


def compare(
    before: Mapping[str, float], after: Mapping[str, float], tolerances: Tolerances
) -> list[MetricCheck]:
    """Check every metric both sides have (counts such as `rows` left out), sorted by name."""
    names = sorted((set(before) & set(after)) - NOT_CHARTED)
    checks = []
    for name in names:
        tolerance, kind = tolerances.of(name)
        checks.append(
            MetricCheck(
                metric=name,
                before=float(before[name]),
                after=float(after[name]),
                tolerance=tolerance,
                kind=kind,
                lower_is_better=name in LOWER_IS_BETTER,
            )
        )
    return checks


def drifted(checks: Iterable[MetricCheck]) -> list[str]:
    """The names of the metrics that drifted."""
    return [c.metric for c in checks if c.drifted]
