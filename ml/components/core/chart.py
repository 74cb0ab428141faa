"""The comparison chart: one panel per metric, candidate vs serving model, baseline marked.

Each metric gets its own panel and y axis, so a loss of 0.3 never shares a scale with an
accuracy of 0.95; the trivial baseline (majority class / mean), when known, is a dashed line.
The page is self-contained HTML (an inline PNG, a table and the decision): the "before and
after" view in the KFP UI.
"""

import base64
import html
import io
import math

from ml.components.core.comparison import (
    BASELINE,
    NOT_CHARTED,
    Decision,
    Serving,
    model_metrics,
)

_COLOURS = {"candidate": "#1f77b4", "serving": "#9e9e9e"}


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.4g}"


def charted(candidate: dict[str, float]) -> list[str]:
    """The metrics drawn, one panel each, in a stable order."""
    return sorted(k for k in model_metrics(candidate) if k not in NOT_CHARTED)


def bar_chart_png(candidate: dict[str, float], serving: Serving | None, title: str) -> bytes:
    """Draw one panel per metric (candidate and serving bars, baseline line); PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = charted(candidate) or ["(no metrics)"]
    fig, axes = plt.subplots(
        1, len(names), figsize=(max(4.0, 2.6 * len(names)), 3.4), dpi=100, squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        bars = [("candidate", candidate.get(name, math.nan))]
        if serving is not None:
            bars.insert(0, (serving.label, serving.metrics.get(name, math.nan)))
        heights = [v if math.isfinite(v) else 0.0 for _, v in bars]
        colours = [
            _COLOURS["candidate" if label == "candidate" else "serving"] for label, _ in bars
        ]
        drawn = ax.bar(range(len(bars)), heights, 0.6, color=colours)
        ax.bar_label(drawn, labels=[_fmt(v) for _, v in bars], fontsize=8, padding=2)
        ax.set_xticks(range(len(bars)), [_wrap(label) for label, _ in bars], fontsize=7)
        base = candidate.get(BASELINE + name)
        if base is not None and math.isfinite(base):
            ax.axhline(base, color="#d62728", linestyle="--", linewidth=1, label="baseline")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title(name, fontsize=10)
        ax.margins(y=0.2)
    fig.suptitle(_wrap(title, 110), fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _wrap(text: str, width: int = 18) -> str:
    """Break a label on spaces so that it fits under its bar."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def chart_html(candidate: dict[str, float], serving: Serving | None, decision: Decision) -> str:
    """Return a self-contained HTML page: the chart (inline PNG), a table and the decision."""
    png = base64.b64encode(bar_chart_png(candidate, serving, decision.reason)).decode("ascii")
    names = sorted(set(model_metrics(candidate)) | set(serving.metrics if serving else {}))
    head = "<tr><th>metric</th><th>candidate</th>"
    head += f"<th>{html.escape(serving.label)}</th>" if serving else ""
    head += "<th>baseline</th></tr>"
    rows = []
    for n in names:
        cells = [html.escape(n), _fmt(candidate.get(n, math.nan))]
        if serving is not None:
            cells.append(_fmt(serving.metrics.get(n, math.nan)))
        cells.append(_fmt(candidate.get(BASELINE + n, math.nan)))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    verdict = "promote" if decision.promote else "do not promote"
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>kfstack: model comparison"
        "</title><style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}"
        "</style></head><body>\n"
        f"<h2>Candidate vs serving model: {verdict}</h2>\n"
        f"<p id='decision' data-promote='{str(decision.promote).lower()}'>"
        f"{html.escape(decision.reason)}</p>\n"
        f"<img alt='metrics of both models, one panel per metric' "
        f"src='data:image/png;base64,{png}'/>\n"
        f"<table>{head}{''.join(rows)}</table>\n</body></html>\n"
    )
