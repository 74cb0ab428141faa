"""Before and after deployment as a picture: one PNG, two panels.

Top: for each metric, the bar before deployment (the release record's offline metrics)
beside the bar after deployment (through the endpoint, one per target). Bottom: the
difference after - before per metric, red where it is beyond the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ml.servecheck.drift import MetricCheck

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BEFORE = "before: offline"
AFTER = "after: {target}"
_OK, _DRIFT = "tab:green", "tab:red"


def _fmt(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"


def figure(checks: dict[str, Sequence[MetricCheck]], title: str) -> Figure:
    """Draw the checks of each target (name -> checks); return the matplotlib Figure.

    Bars carry labels `before: offline` and `after: <target>`, so a reader (or a test) can
    find each series in `ax.containers`.
    """
    from matplotlib.figure import Figure

    names = sorted({c.metric for cs in checks.values() for c in cs})
    before = {c.metric: c.before for cs in checks.values() for c in cs}
    series = [(BEFORE, [before[n] for n in names])]
    for target, cs in checks.items():
        after = {c.metric: c.after for c in cs}
        series.append((AFTER.format(target=target), [after.get(n, math.nan) for n in names]))
    fig = Figure(figsize=(max(5.0, 1.9 * len(names) + 2.0), 6.4), dpi=100)
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 2))
    width = 0.8 / len(series)
    xs = list(range(len(names)))
    for i, (label, heights) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        bars = top.bar([x + offset for x in xs], heights, width, label=label)
        top.bar_label(bars, labels=[_fmt(h) for h in heights], fontsize=7, padding=2)
    top.set_xticks(xs, names)
    top.set_title(title, fontsize=10)
    top.legend(fontsize=8, loc="best")
    top.margins(y=0.18)
    dwidth = 0.8 / max(len(checks), 1)
    for i, (target, cs) in enumerate(checks.items()):
        by_name = {c.metric: c for c in cs}
        offset = (i - (len(checks) - 1) / 2) * dwidth
        shown = [by_name[n] for n in names if n in by_name]
        bars = bottom.bar(
            [names.index(c.metric) + offset for c in shown],
            [c.difference for c in shown],
            dwidth,
            color=[_DRIFT if c.drifted else _OK for c in shown],
            label=f"after - before: {target}",
        )
        bottom.bar_label(bars, labels=[f"{c.difference:+.3g}" for c in shown], fontsize=7)
    bottom.axhline(0.0, color="black", linewidth=0.8)
    bottom.set_xticks(xs, names)
    bottom.set_ylabel("after - before", fontsize=8)
    bottom.set_title("difference (red: beyond tolerance)", fontsize=9)
    bottom.margins(y=0.25)
    fig.tight_layout()
    return fig


def write_chart(checks: dict[str, Sequence[MetricCheck]], title: str, path: Path) -> Path:
    """Draw the checks and save them as a PNG at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure(checks, title).savefig(path, format="png")
    return path
