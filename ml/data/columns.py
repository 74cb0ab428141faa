"""Resolve a DatasetSpec against a file: which columns, which kinds, labels, missing values."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ml.data.csvread import (
    RawTable,
    as_text,
    infer_date,
    infer_kind,
    read_header,
    read_table,
    to_numeric,
)
from ml.data.dates import DateFormat
from ml.data.errors import ProblemList
from ml.data.report import check_header
from ml.data.schema import DatasetSpec, Kind, LabelSchema, Task, sanitize_names

#: An integer-valued numeric label with at most this many values means classification.
MAX_INFERRED_CLASSES = 20
#: How many rows a "fail" policy or an unknown label reports per column before summing up.
_ROWS_LISTED = 10


@dataclass(frozen=True)
class Validated:
    """A validated table: features by sanitized key (missing cells still null), label last.

    Attributes:
        table: Feature columns (float32 or string) then the label (int32 class index for
            classification, float32 for regression), named by sanitized key.
        kinds: Feature key -> kind, in file order.
        names: Sanitized key -> header name.
        label: The label decisions (task, classes).
        missing: Header name -> missing cells in the file, before any row was dropped.
        dropped: Reason -> rows dropped.
        dates: Feature key -> the spelling of its dates, for date columns (`ml.data.dates`).
        groups: The group of each row of `table` (text, None where missing) when the spec
            splits by a group column, else None.

    """

    table: pa.Table
    kinds: dict[str, Kind]
    names: dict[str, str]
    label: LabelSchema
    missing: dict[str, int]
    dropped: dict[str, int]
    dates: dict[str, DateFormat]
    groups: np.ndarray | None = None


def validate_csv(path: Path, spec: DatasetSpec) -> Validated:
    """Read `path` as `spec` says and check it, raising one DataError for all problems."""
    header = read_header(path, spec.delimiter)
    check_header(path, header)
    used = _used_columns(spec, header, ProblemList(str(path)))
    types = {c: pa.float32() for c in spec.numeric if c in used}
    types |= {c: pa.string() for c in spec.categorical if c in used}
    types[spec.label] = pa.float32() if spec.task == "regression" else pa.string()
    if spec.group is not None:
        types[spec.group] = pa.string()
    raw = read_table(path, header, types, spec.delimiter, include=used)
    features = [c for c in used if c not in (spec.label, spec.group)]
    kinds = {c: _kind(spec, raw, c) for c in features}
    columns = {c: _convert(raw, c, kinds[c]) for c in features}
    every = sanitize_names(header)  # over the whole header: a name's key never depends on --drop
    keys = {c: every[c] for c in [*features, spec.label]}
    label, label_column = _label(spec, raw, keys[spec.label])
    missing = {c: col.null_count for c, col in columns.items()}
    missing[spec.label] = raw.table.column(spec.label).null_count
    table = pa.table({keys[c]: columns[c] for c in features} | {keys[spec.label]: label_column})
    groups = None
    if spec.group is not None:  # carried through the row policies, then taken out
        group_key = every[spec.group]
        table = table.append_column(group_key, as_text(raw.table.column(spec.group)))
    table, dropped = _apply_policies(spec, raw, table, keys)
    if spec.group is not None:
        groups = np.asarray(table.column(group_key).to_pylist(), dtype=object)
        table = table.drop_columns([group_key])
    raw.problems.raise_if_any()
    dates = {
        keys[c]: d
        for c in features
        if (d := infer_date(c, columns[c], declared=c in spec.categorical)) is not None
    }
    return Validated(
        table=table,
        kinds={keys[c]: kinds[c] for c in features},
        names={v: k for k, v in keys.items()},
        label=label,
        missing=missing,
        dropped=dropped,
        dates=dates,
        groups=groups,
    )


def _used_columns(spec: DatasetSpec, header: list[str], problems: ProblemList) -> list[str]:
    group = [] if spec.group is None else [spec.group]
    for name in [spec.label, *spec.numeric, *spec.categorical, *spec.ignore, *group]:
        if name not in header:
            close = difflib.get_close_matches(name, header, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.add(f"not in the header ({', '.join(header)}){hint}", line=1, column=name)
    problems.raise_if_any()
    declared = {spec.label, *spec.numeric, *spec.categorical, *group}
    ignored = set(spec.ignore) - set(group)
    return [c for c in header if c in declared or (spec.infer_others and c not in ignored)]


def _kind(spec: DatasetSpec, raw: RawTable, name: str) -> Kind:
    if name in spec.numeric:
        return "numeric"
    if name in spec.categorical:
        return "categorical"
    return infer_kind(raw.table.column(name))


def _convert(raw: RawTable, name: str, kind: Kind) -> pa.ChunkedArray:
    column = raw.table.column(name)
    if kind == "categorical":
        return as_text(column)
    if pa.types.is_string(column.type) or pa.types.is_null(column.type):
        return to_numeric(column, name, raw.lines, raw.problems)
    return pc.cast(column, pa.float32(), safe=False)  # integers above 2**24 round


def _label(spec: DatasetSpec, raw: RawTable, key: str) -> tuple[LabelSchema, pa.ChunkedArray]:
    column = raw.table.column(spec.label)
    task = spec.task or _infer_task(spec, column)
    if task == "regression":
        if not pa.types.is_floating(column.type):
            column = to_numeric(column, spec.label, raw.lines, raw.problems)
        return LabelSchema(name=spec.label, key=key, task=task), column
    text = as_text(column)
    classes = spec.classes or _infer_classes(text)
    index = pc.index_in(text, value_set=pa.array(classes, pa.string()))
    unknown = np.flatnonzero(index.is_null().to_numpy() & text.is_valid().to_numpy())
    for row in unknown[:_ROWS_LISTED]:
        raw.problems.add(
            f"label {text[int(row)].as_py()!r} is not one of the classes {list(classes)}",
            line=raw.lines.line(int(row)),
            column=spec.label,
        )
    if len(unknown) > _ROWS_LISTED:
        raw.problems.add(
            f"{len(unknown) - _ROWS_LISTED} more rows with a label not in the classes",
            column=spec.label,
        )
    label = LabelSchema(name=spec.label, key=key, task=task, classes=tuple(classes))
    return label, pc.cast(index, pa.int32())


def _infer_task(spec: DatasetSpec, column: pa.ChunkedArray) -> Task:
    if spec.classes is not None:
        return "classification"
    numbers = _numbers(pc.unique(as_text(column).drop_null()).to_pylist())
    if numbers is None:
        return "classification"
    integral = all(v == round(v) for v in numbers)
    return "classification" if integral and len(numbers) <= MAX_INFERRED_CLASSES else "regression"


def _numbers(values: list[str]) -> list[float] | None:
    """Return the values as floats, or None if one of them is not a number."""
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _infer_classes(text: pa.ChunkedArray) -> tuple[str, ...]:
    values = pc.unique(text.drop_null()).to_pylist()
    numbers = _numbers(values)
    if values and numbers is not None:
        return tuple(v for _, v in sorted(zip(numbers, values, strict=True)))
    return tuple(sorted(values))


def _apply_policies(
    spec: DatasetSpec, raw: RawTable, table: pa.Table, keys: dict[str, str]
) -> tuple[pa.Table, dict[str, int]]:
    keep = np.ones(table.num_rows, dtype=bool)
    dropped: dict[str, int] = {}
    for name, key in keys.items():
        nulls = table.column(key).is_null().to_numpy(zero_copy_only=False)
        policy = spec.policy(name)
        if not nulls.any() or policy == "fill":
            continue
        rows = np.flatnonzero(nulls)
        if policy == "drop":
            dropped[f"missing {name}"] = int((keep & nulls).sum())
            keep &= ~nulls
            continue
        for row in rows[:_ROWS_LISTED]:
            raw.problems.add(
                "missing value (policy: fail)", line=raw.lines.line(int(row)), column=name
            )
        if len(rows) > _ROWS_LISTED:
            raw.problems.add(f"{len(rows) - _ROWS_LISTED} more missing values", column=name)
    if keep.all():
        return table, dropped
    return table.filter(pa.array(keep)), dropped
