"""The comparison step: candidate metrics vs the serving model's -> a decision and a chart.

The decision is made on one configured metric: the candidate `meets_threshold` when the
metric is at least (maximize) or at most (minimize) the threshold, and is `better` when it is
at least as good as the serving model's (ties count: retraining on the same data may be
promoted) or when nothing is serving yet. `promote` is both; the pipeline's gate tests it.
The chart is an HTML page with a bar chart of both models' metrics (an inline PNG) and the
decision: the "before and after" view in the KFP UI.
"""

import base64
import html
import io
import json
import math
from dataclasses import dataclass
from typing import Any

#: Metrics where lower is better (direction "auto").
LOWER_IS_BETTER = frozenset({"loss", "mae", "rmse", "mse"})
#: Metrics left out of the chart (counts, not quality).
NOT_CHARTED = frozenset({"rows"})


@dataclass(frozen=True)
class Serving:
    """The model now serving: a label for the chart and its metrics."""

    label: str
    metrics: dict[str, float]


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

    @property
    def promote(self) -> bool:
        """Whether the candidate may be released: meets the threshold and is not worse."""
        return self.meets_threshold and self.better


def parse_serving(text: str) -> Serving | None:
    """Read the serving model's metrics from a release record JSON or a plain metrics object.

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
    label = "serving"
    if isinstance(data.get("metrics"), dict):  # a release record
        label = f"serving {data.get('name', '')} v{data.get('version', '?')}".replace("  ", " ")
        data = data["metrics"]
    bad = sorted(k for k, v in data.items() if not isinstance(v, int | float))
    if bad:
        raise ValueError(f"serving metrics must be numbers; not numbers: {', '.join(bad)}")
    return Serving(label=label, metrics={k: float(v) for k, v in data.items()})


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


def decide(
    candidate: dict[str, float],
    serving: Serving | None,
    *,
    metric: str,
    threshold: float | None = None,
    direction: str = "auto",
) -> Decision:
    """Decide whether the candidate may replace the serving model.

    Raises:
        ValueError: the candidate has no such metric, or the direction is unknown.

    """
    direction = resolve_direction(metric, direction)
    if metric not in candidate:
        raise ValueError(f"metric {metric!r} not in the candidate's metrics {sorted(candidate)}")
    value = float(candidate[metric])
    sign = 1.0 if direction == "maximize" else -1.0
    meets = not math.isnan(value) and (threshold is None or sign * (value - threshold) >= 0)
    served = serving.metrics.get(metric) if serving is not None else None
    if served is None or math.isnan(served):
        better = not math.isnan(value)
        versus = "no serving model to compare with" if serving is None else "serving: n/a"
    else:
        better = sign * (value - served) >= 0
        versus = f"serving {served:.4f}"
    bound = "" if threshold is None else f", threshold {threshold:.4f}"
    verdict = "promote" if meets and better else "do not release"
    if verdict != "promote" and served is not None:
        verdict = "keep the serving model"
    reason = f"{metric} ({direction}) candidate {value:.4f}{bound}, {versus}: {verdict}"
    return Decision(metric, direction, value, served, threshold, meets, better, reason)


def bar_chart_png(candidate: dict[str, float], serving: Serving | None, title: str) -> bytes:
    """Draw the metrics of both models as grouped bars; return the PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = sorted(k for k in candidate if k not in NOT_CHARTED)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(names) + 1.5), 3.6), dpi=100)
    width = 0.38 if serving is not None else 0.6
    xs = list(range(len(names)))
    groups = [("candidate", candidate, 0.0 if serving is None else width / 2)]
    if serving is not None:
        groups.insert(0, (serving.label, serving.metrics, -width / 2))
    for label, values, offset in groups:
        heights = [values.get(n, float("nan")) for n in names]
        bars = ax.bar([x + offset for x in xs], heights, width, label=label)
        ax.bar_label(bars, labels=[_fmt(h) for h in heights], fontsize=8, padding=2)
    ax.set_xticks(xs, names)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.margins(y=0.15)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def chart_html(candidate: dict[str, float], serving: Serving | None, decision: Decision) -> str:
    """Return a self-contained HTML page: the bar chart (inline PNG), a table and the decision."""
    png = base64.b64encode(bar_chart_png(candidate, serving, decision.reason)).decode("ascii")
    names = sorted(set(candidate) | set(serving.metrics if serving else {}))
    head = "<tr><th>metric</th><th>candidate</th>"
    head += f"<th>{html.escape(serving.label)}</th></tr>" if serving else "</tr>"
    rows = []
    for n in names:
        cells = [html.escape(n), _fmt(candidate.get(n, math.nan))]
        if serving is not None:
            cells.append(_fmt(serving.metrics.get(n, math.nan)))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    verdict = "promote" if decision.promote else "do not promote"
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>kfstack: model comparison"
        "</title><style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}"
        "</style></head><body>\n"
        f"<h2>Candidate vs serving model: {verdict}</h2>\n"
        f"<p id='decision' data-promote='{str(decision.promote).lower()}'>"
        f"{html.escape(decision.reason)}</p>\n"
        f"<img alt='metrics of both models' src='data:image/png;base64,{png}'/>\n"
        f"<table>{head}{''.join(rows)}</table>\n</body></html>\n"
    )


def candidate_metrics(metadata: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a Metrics artifact's metadata (kfp.local returns ints as floats)."""
    return {
        k: float(v)
        for k, v in metadata.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
