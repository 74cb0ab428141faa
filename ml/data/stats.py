"""Statistics of a built dataset: fill values and per-column summaries (statistics.json)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ml.data.schema import Kind, LabelSchema, NumericFill


def fill_values(
    train: pa.Table, kinds: dict[str, Kind], how: NumericFill, token: str
) -> dict[str, float | str]:
    """Return the fill of each feature: the train split's median/mean, or `token`."""
    fills: dict[str, float | str] = {}
    for key, kind in kinds.items():
        if kind == "categorical":
            fills[key] = token
            continue
        column = train.column(key)
        if column.null_count == len(column):
            fills[key] = 0.0
        elif how == "mean":
            fills[key] = _as_float32(pc.mean(column).as_py())
        else:
            fills[key] = _as_float32(pc.quantile(column, q=0.5)[0].as_py())
    return fills


def _as_float32(value: float) -> float:
    """`value` rounded to float32, written with the fewest digits (39.6, not 39.59999847)."""
    return float(str(np.float32(value)))


def fill(table: pa.Table, fills: dict[str, float | str]) -> tuple[pa.Table, dict[str, int]]:
    """Fill the missing cells of `table`; return it with the count filled per column."""
    counts = {}
    for key, value in fills.items():
        column = table.column(key)
        counts[key] = column.null_count
        if column.null_count:
            scalar = pa.scalar(value, type=column.type)
            index = table.schema.get_field_index(key)
            table = table.set_column(index, key, pc.fill_null(column, scalar))
    return table, counts


def column_statistics(
    raw: pa.ChunkedArray, filled: pa.ChunkedArray, kind: Kind, fill_value: float | str
) -> dict[str, Any]:
    """One column's summary: counts before filling, values after (vocabulary with counts)."""
    stats: dict[str, Any] = {
        "kind": kind,
        "count": len(raw) - raw.null_count,
        "missing": raw.null_count,
        "fill": fill_value,
    }
    if kind == "categorical":
        counts = pc.value_counts(filled).to_pylist()
        ranked = sorted(counts, key=lambda v: (-v["counts"], v["values"]))
        stats["vocabulary"] = {v["values"]: v["counts"] for v in ranked}
        return stats
    return stats | numeric_summary(raw)


def numeric_summary(column: pa.ChunkedArray) -> dict[str, float | None]:
    """Mean, std, min, max and median of the non-missing values (None when there are none)."""
    if len(column) == column.null_count:
        return dict.fromkeys(("mean", "std", "min", "max", "median"))
    bounds = pc.min_max(column).as_py()
    return {
        "mean": float(pc.mean(column).as_py()),
        "std": float(pc.stddev(column).as_py()),
        "min": float(bounds["min"]),
        "max": float(bounds["max"]),
        "median": float(pc.quantile(column, q=0.5)[0].as_py()),
    }


def label_statistics(column: pa.ChunkedArray, label: LabelSchema) -> dict[str, Any]:
    """Label distribution (class -> rows) for classification, a summary for regression."""
    if label.classes is None:
        return numeric_summary(column) | {"count": len(column)}
    counts = dict.fromkeys(label.classes, 0)
    for item in pc.value_counts(column).to_pylist():
        counts[label.classes[item["values"]]] = item["counts"]
    return {"count": len(column), "distribution": counts}
