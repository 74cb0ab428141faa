"""The comparison step: candidate metrics vs the serving model's -> a decision.

The decision is made on one configured metric. The candidate is promoted only when all of
these hold, and the reason says which one failed:

- sane: the metric is a finite number;
- comparable: the serving model (if any) predicts the same label for the same task, with
  the same classes and the same inputs (names and kinds) — otherwise its metrics mean
  nothing for this candidate;
- beats the baseline: better than the trivial model (majority class / mean, metrics
  `baseline_<metric>` from the evaluation) by more than `min_gain`;
- meets the threshold: at least (maximize) or at most (minimize) the bound, when one is set;
- better: at least as good as the serving model (ties count) or nothing is serving.

The chart is drawn by `ml.components.core.chart`.
"""

import json
import math
from dataclasses import dataclass, field
from typing import Any

#: Metrics where lower is better (direction "auto").
LOWER_IS_BETTER = frozenset({"loss", "mae", "rmse", "mse"})
#: Metrics left out of charts and drift reports (counts, not quality).
NOT_CHARTED = frozenset({"rows"})
#: Prefix of the trivial model's metrics in the candidate's metrics.
BASELINE = "baseline_"


@dataclass(frozen=True)
class Identity:
    """What a model predicts from what: compared before any metric is."""

    label: str | None = None
    task: str | None = None
    classes: tuple[str, ...] | None = None
    inputs: tuple[tuple[str, str], ...] | None = None

    @classmethod
    def of_schema(cls, schema: Any) -> "Identity":
        """The identity of a model trained on a dataset with this `DatasetSchema`."""
        return cls(
            label=schema.label.name,
            task=schema.label.task,
            classes=schema.label.classes,
            inputs=tuple((c.key, c.kind) for c in schema.features),
        )


@dataclass(frozen=True)
class Serving:
    """The model now serving: a label for the chart, its metrics and what it predicts."""

    label: str
    metrics: dict[str, float]
    identity: Identity = field(default_factory=Identity)


@dataclass(frozen=True)
class Decision:
    """The gate's inputs and verdict on one metric."""

    metric: str
    direction: str
    candidate: float
    serving: float | None
    threshold: float | None
    meets_threshold: bool
    better: bool
    reason: str
    baseline: float | None = None
    sane: bool = True
    comparable: bool = True
    beats_baseline: bool = True

    @property
    def promote(self) -> bool:
        """Whether the candidate may be released: every check passed."""
        return (
            self.sane
            and self.comparable
            and self.beats_baseline
            and self.meets_threshold
            and self.better
        )


def parse_serving(text: str) -> Serving | None:
    """Read the serving model from a release record JSON or a plain metrics object.

    Returns:
        None for empty text (nothing is serving).

    Raises:
        ValueError: not JSON, or not an object of numbers.

    """
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"serving metrics are not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("serving metrics must be a JSON object")
    label, identity = "serving", Identity()
    if isinstance(data.get("metrics"), dict):  # a release record
        label, identity = _record_label(data), _record_identity(data)
        data = data["metrics"]
    bad = sorted(k for k, v in data.items() if not isinstance(v, int | float))
    if bad:
        raise ValueError(f"serving metrics must be numbers; not numbers: {', '.join(bad)}")
    return Serving(label=label, metrics={k: float(v) for k, v in data.items()}, identity=identity)


def _record_label(record: dict[str, Any]) -> str:
    """`serving iris v3 (2026-11-28)`: the release's name, version and date."""
    name = str(record.get("name", "")).strip()
    text = f"serving {name} v{record.get('version', '?')}".replace("  ", " ")
    created = str(record.get("created_at", ""))[:10]
    return f"{text} ({created})" if created else text


def _record_identity(record: dict[str, Any]) -> Identity:
    labels = record.get("labels") if isinstance(record.get("labels"), dict) else {}
    inputs = record.get("input_schema")
    classes = record.get("classes")
    return Identity(
        label=record.get("label"),
        task=record.get("task") or (labels or {}).get("kfstack.io/task"),
        classes=tuple(classes) if isinstance(classes, list) else None,
        inputs=tuple((c.get("name"), c.get("kind")) for c in inputs)
        if isinstance(inputs, list)
        else None,
    )


def differences(candidate: Identity, serving: Identity) -> list[str]:
    """What makes the two models' metrics incomparable (parts one side does not know pass)."""
    found = []
    for what in ("label", "task", "classes"):
        mine, theirs = getattr(candidate, what), getattr(serving, what)
        if mine is not None and theirs is not None and mine != theirs:
            shown = list if what == "classes" else repr
            found.append(f"{what} {shown(theirs)} (candidate: {shown(mine)})")
    if candidate.inputs is None or serving.inputs is None or candidate.inputs == serving.inputs:
        return found
    mine, theirs = dict(candidate.inputs), dict(serving.inputs)
    changes = [f"+{k}" for k in mine if k not in theirs]
    changes += [f"-{k}" for k in theirs if k not in mine]
    changes += [f"{k} {theirs[k]}->{mine[k]}" for k in mine if k in theirs and theirs[k] != mine[k]]
    found.append(f"inputs differ ({', '.join(changes) or 'order'})")
    return found


def parse_threshold(text: str) -> float | None:
    """Read the threshold parameter: a number, or empty for no bound.

    (A string because kfp.local cannot leave an optional float pipeline parameter out.)

    Raises:
        ValueError: not a finite number.

    """
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"threshold must be a number or empty, not {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"threshold must be a finite number, not {text!r}")
    return value


def resolve_direction(metric: str, direction: str) -> str:
    """Return "maximize" or "minimize"; "auto" picks by the metric's name."""
    if direction == "auto":
        return "minimize" if metric in LOWER_IS_BETTER else "maximize"
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be maximize, minimize or auto, not {direction!r}")
    return direction


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def decide(
    candidate: dict[str, float],
    serving: Serving | None,
    *,
    metric: str,
    threshold: float | None = None,
    direction: str = "auto",
    min_gain: float = 0.0,
    identity: Identity | None = None,
) -> Decision:
    """Decide whether the candidate may replace the serving model.

    Args:
        candidate: The candidate's metrics, with `baseline_<metric>` when known.
        serving: The serving model, or None.
        metric: The metric the decision is made on.
        threshold: The bound the metric must pass, or None.
        direction: "maximize", "minimize" or "auto".
        min_gain: How much better than the baseline the candidate must be.
        identity: What the candidate predicts from what (compared with the serving model's).

    Raises:
        ValueError: the candidate has no such metric, or the direction is unknown.

    """
    direction = resolve_direction(metric, direction)
    if metric not in candidate:
        raise ValueError(f"metric {metric!r} not in the candidate's metrics {sorted(candidate)}")
    value = float(candidate[metric])
    sign = 1.0 if direction == "maximize" else -1.0
    sane = _finite(value)
    base = candidate.get(BASELINE + metric)
    beats = not _finite(base) or (sane and sign * (value - float(base)) > min_gain)  # type: ignore[arg-type]
    meets = sane and (threshold is None or sign * (value - threshold) >= 0)
    diffs = differences(identity or Identity(), serving.identity) if serving else []
    served = serving.metrics.get(metric) if serving is not None else None
    better = sane and (not _finite(served) or sign * (value - served) >= 0)  # type: ignore[operator]
    decision = Decision(
        metric, direction, value, served, threshold, meets, better, "",
        baseline=float(base) if _finite(base) else None,  # type: ignore[arg-type]
        sane=sane, comparable=not diffs, beats_baseline=beats,
    )  # fmt: skip
    return _with_reason(decision, serving, diffs, min_gain)


def _with_reason(
    d: Decision, serving: Serving | None, diffs: list[str], min_gain: float
) -> Decision:
    from dataclasses import replace

    head = f"{d.metric} ({d.direction}) candidate {_num(d.candidate)}"
    if d.threshold is not None:
        head += f", threshold {_num(d.threshold)}"
    if d.baseline is not None:
        head += f", baseline {_num(d.baseline)}"
    if serving is None:
        head += ", no serving model to compare with"
    else:
        head += f", {serving.label} {_num(d.serving) if d.serving is not None else 'n/a'}"
    if not d.sane:
        verdict = f"do not release: the candidate's {d.metric} is not a finite number"
    elif not d.comparable and serving is not None:
        verdict = (
            f"do not release: {serving.label} is another model, its metrics do not compare: "
            + "; ".join(diffs)
        )
    elif not d.beats_baseline:
        gain = f" by more than {_num(min_gain)}" if min_gain else ""
        verdict = f"do not release: not better than the trivial baseline{gain}"
    elif not d.meets_threshold:
        verdict = "do not release: the threshold is not met"
    elif not d.better:
        verdict = "keep the serving model"
    else:
        verdict = "promote"
    return replace(d, reason=f"{head}: {verdict}")


def _num(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.4g}"


def candidate_metrics(metadata: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a Metrics artifact's metadata (kfp.local returns ints as floats)."""
    return {
        k: float(v)
        for k, v in metadata.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def model_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The model's own metrics, without the baseline's."""
    return {k: v for k, v in metrics.items() if not k.startswith(BASELINE)}
