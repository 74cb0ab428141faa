"""Statistics of a built dataset: fill values and per-column summaries (statistics.json)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ml.data.schema import Kind, LabelSchema, NumericFill

#: Train rows a value (a category, a word of free text, a level of a numeric column) needs
#: for its own one-hot slot / embedding row (`ml.model.architecture`, `ml.data.advice`);
#: rarer values share the out-of-vocabulary slot. A slot learnt from one or two rows only
#: memorizes them (a car's name, a sample ID), and an unseen value at test time would hit an
#: untrained slot; pooling the rare values trains the shared slot on exactly the kind of
#: value the model meets after deployment.
MIN_VALUE_ROWS = 3
#: A numeric column's statistics count each value held by at least `MIN_VALUE_ROWS` train
#: rows, the most frequent first, at most this many (`repeated`): enough to tell a column of
#: codes or levels from a measured quantity (`numeric_levels`) without an entry per row.
REPEATED_VALUES_LIMIT = 2048
#: A numeric column is also read by its levels (`numeric_levels`) when its frequent values
#: hold at least this share of the train rows: a column of codes, counts or a few levels.
LEVELS_MIN_SHARE = 0.5
#: Rows repeat when this share of a split's rows have exactly a train row's features: the
#: model then reads numbers by their levels too (`reads_levels`), and `data build` notes it
#: of the test split (`seen_in_train_note`).
ROWS_REPEAT_SHARE = 0.2
#: A numeric column of values >= 0 whose skewness on train exceeds this is read on a log
#: scale (`log_scale`): a few large values would otherwise squeeze the rest into a sliver of
#: the normalized range (prices from 6 to 707: one stock's 16 to 43 span 0.2 std).
SKEW_LIMIT = 1.0


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
    return (
        stats | numeric_summary(raw) | {"log": log_scale(raw), "repeated": repeated_values(filled)}
    )


def repeated_values(column: pa.ChunkedArray) -> dict[str, int]:
    """The values of a numeric column held by `MIN_VALUE_ROWS` rows or more, with their counts.

    Keys are the values as float32 text (JSON keys are text), the most frequent first; at
    most `REPEATED_VALUES_LIMIT` values.
    """
    counts = pc.value_counts(column.drop_null()).to_pylist()
    kept = [c for c in counts if c["counts"] >= MIN_VALUE_ROWS]
    ranked = sorted(kept, key=lambda c: (-c["counts"], c["values"]))[:REPEATED_VALUES_LIMIT]
    return {str(np.float32(c["values"])): c["counts"] for c in ranked}


def numeric_levels(column: dict[str, Any], train_rows: int) -> list[float]:
    """The levels of a numeric column, read by the model besides its normalized value.

    A column whose values repeat (codes, counts, incomes in steps, the same person's values in
    several rows) is read like a categorical one as well (`ml.model.architecture`): each
    value held by at least `MIN_VALUE_ROWS` train rows (`repeated`) is a level, when there
    are three or more of them and together they hold `LEVELS_MIN_SHARE` of the train rows.
    A measured quantity, whose values rarely repeat, has none; so have statistics written
    before `repeated` existed.
    """
    repeated = {float(v): n for v, n in (column.get("repeated") or {}).items()}
    if len(repeated) < 3 or sum(repeated.values()) < LEVELS_MIN_SHARE * train_rows:
        return []
    return sorted(repeated)


def level_bounds(levels: list[float]) -> list[float]:
    """Bin boundaries that give each level its own bin: a value takes the nearer level."""
    return [(a + b) / 2 for a, b in itertools.pairwise(levels)]


def rows_seen_in_train(
    train: pa.Table, others: dict[str, pa.Table], keys: list[str]
) -> dict[str, int]:
    """Per split of `others`, its rows whose feature values (`keys`, filled) are a train row's.

    The train split's distinct rows are found once, for all the splits.
    """
    if not keys or not any(t.num_rows for t in others.values()):
        return dict.fromkeys(others, 0)
    distinct = train.select(keys).group_by(keys).aggregate([])
    return {
        name: int(t.select(keys).join(distinct, keys, join_type="left semi").num_rows)
        for name, t in others.items()
    }


def reads_levels(statistics: dict[str, Any]) -> bool:
    """Whether the model reads numbers by their levels: where the validation rows repeat.

    Rows of one person, item or place (person-years, repeat visits) carry its values again and
    again; read as levels, those values let the model tell the entities apart, as a forest's
    splits do (RAND's health survey: 0.59 -> 0.71 accuracy). Elsewhere the levels of measured
    numbers cost more than they add (Seattle's temperatures in 0.1 degree steps: 2-4 test
    rows of 145 per seed). Decided on the validation split, never the test split; statistics
    written before `seen_in_train` existed give no levels.
    """
    return _rows_repeat(statistics, "validation") is not None


def seen_in_train_note(statistics: dict[str, Any]) -> str | None:
    """A note when many test rows repeat a train row's feature values, else None.

    Rows of one person, item or place over time split by rows put the same entity in train
    and test: the test accuracy then measures how well the model recalls seen entities (a
    model that looks rows up scores well), not how it does on new ones.
    """
    repeat = _rows_repeat(statistics, "test")
    if repeat is None:
        return None
    seen, rows = repeat
    return (
        f"{seen} of {rows} test rows ({seen / rows:.0%}) have exactly the feature values of a "
        "train row: if rows repeat one person, item or place, the test split measures how "
        "the model recalls them, not how it does on new ones (a column naming them? "
        "split by it: --group COL)"
    )


def _rows_repeat(statistics: dict[str, Any], split: str) -> tuple[int, int] | None:
    """(rows seen in train, rows) of `split` when its rows repeat train rows, else None."""
    seen = statistics.get("seen_in_train", {}).get(split)
    rows = statistics["rows"].get(split, 0)
    if seen is None or not rows or seen < ROWS_REPEAT_SHARE * rows:
        return None
    return seen, rows


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


def log_scale(column: pa.ChunkedArray) -> dict[str, float] | None:
    """How the model reads a right-skewed column on a log scale, or None for a linear one.

    A column of values >= 0 with skewness above `SKEW_LIMIT` is read as log(max(x, floor)),
    floor = half its smallest positive train value, normalized by that reading's mean and
    std on train. Positive values are read as their logarithm; a zero one step of log 2
    below the smallest positive value; anything below the floor at serving time (a
    negative) as the floor, never as an infinity. A forest is blind to such a monotone
    rescaling; a network is not: on the normalized linear scale a few large values leave
    the rest within a sliver of the range, where its first layer needs many steps to
    separate them (bench_quality stocks: 0.784 -> 0.802 accuracy). Columns with a negative
    value, or a single value, are read linearly (None).
    """
    values = column.drop_null().to_numpy(zero_copy_only=False).astype(np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 3 or values.min() < 0:
        return None
    std = values.std()
    if not std > 0:
        return None
    skew = float(np.mean(((values - values.mean()) / std) ** 3))
    if skew <= SKEW_LIMIT:
        return None
    floor = float(values[values > 0].min()) / 2
    logs = np.log(np.maximum(values, floor))
    return {"floor": floor, "mean": float(logs.mean()), "std": float(logs.std()), "skew": skew}


def label_statistics(column: pa.ChunkedArray, label: LabelSchema) -> dict[str, Any]:
    """Label distribution (class -> rows) for classification, a summary for regression."""
    if label.classes is None:
        return numeric_summary(column) | {"count": len(column)}
    counts = dict.fromkeys(label.classes, 0)
    for item in pc.value_counts(column).to_pylist():
        counts[label.classes[item["values"]]] = item["counts"]
    return {"count": len(column), "distribution": counts}
