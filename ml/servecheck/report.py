"""The check as a JSON document (`serving-check.json`): inputs, per target rows, metrics, verdict.

Secrets never reach it: the auth is reported by kind ("bearer token", "cookie NAME").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml.servecheck.run import CheckResult, TargetResult

REPORT_FILE = "serving-check.json"
CHART_FILE = "serving-check.png"
REPORT_SCHEMA = "kfstack.serving-check/v1"
#: Example file lines kept per rejection reason.
_LINES_LISTED = 20


def _target(result: TargetResult, check: CheckResult) -> dict[str, Any]:
    outcome = result.outcome
    rejected = [
        {
            "reason": r.reason,
            "count": len(r.rows),
            "lines": [check.holdout.lines.line(row) for row in r.rows[:_LINES_LISTED]],
        }
        for r in outcome.rejections()
    ]
    measured = result.score
    return {
        "name": result.target.name,
        "request": result.target.how,
        "rows": {
            "sent": outcome.rows,
            "accepted": len(outcome.predictions),
            "rejected": len(outcome.rejected),
        },
        "requests": outcome.requests,
        "rejected": rejected,
        "task": measured.task if measured else None,
        "metrics": measured.metrics if measured else {},
        "classes": list(measured.classes) if measured else [],
        "confusion": measured.confusion if measured else [],
        "checks": [
            {
                "metric": c.metric,
                "before": c.before,
                "after": c.after,
                "difference": c.difference,
                "tolerance": c.tolerance,
                "tolerance_kind": c.kind,
                "direction": c.direction,
                "rule": c.rule,
                "interval": list(c.interval) if c.interval else None,
                "judged": c.judged,
                "drifted": c.drifted,
            }
            for c in result.checks
        ],
        "drifted": result.drifted,
    }


def report(check: CheckResult, *, chart: Path | None = None) -> dict[str, Any]:
    """The JSON-ready report of a check."""
    release = check.release
    request = check.request
    return {
        "schema": REPORT_SCHEMA,
        "passed": check.passed,
        "failures": check.failures,
        "notes": check.notes,
        "endpoint": check.route.url,
        "model": check.route.model,
        "protocol": check.route.protocol,
        "auth": request.auth.kind,
        "release": {
            "path": str(request.release),
            "name": release.name,
            "version": release.version,
            "metrics": release.metrics,
        },
        "holdout": {
            "path": str(check.holdout.path),
            "rows": check.holdout.rows,
            "label": check.holdout.label_column,
        },
        "tolerances": {
            "accuracy_like_absolute": request.tolerances.accuracy,
            "others_relative": request.tolerances.relative,
            "per_metric": dict(request.tolerances.per_metric),
        },
        "max_rejected": request.max_rejected,
        "targets": [_target(r, check) for r in check.results],
        "chart": str(chart) if chart is not None else None,
    }


def write_report(document: dict[str, Any], out: Path) -> Path:
    """Write the report as `<out>/serving-check.json` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
