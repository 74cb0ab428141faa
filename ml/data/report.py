"""`kfstack data inspect`: a data-quality report of a CSV, never a traceback.

Per column: the inferred kind, missing cells, distinct values and a summary. Then warnings
for what usually hurts a model, each with the option that fixes it: constant, empty or
mostly-missing columns, ID-like columns (every value unique), high-cardinality text (free
text), and a header line that looks like data (sklearn-style `n_samples,n_features,...`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ml.data.csvread import infer_date, infer_kind, numeric_share, read_header, read_table
from ml.data.dates import DateFormat
from ml.data.errors import DataError, Problem
from ml.data.schema import DatasetSpec, Kind, sanitize_names
from ml.data.stats import ROWS_REPEAT_SHARE

#: A column with at least this share of missing cells is "mostly missing".
MOSTLY_MISSING = 0.5
#: Text with more distinct values than this (and half its rows) is free text, not categories.
HIGH_CARDINALITY = 50
#: ID-like and high-cardinality checks need at least this many values to mean anything.
MIN_ROWS_FOR_UNIQUE = 20

__all__ = ["ColumnProfile", "CsvProfile", "Finding", "header_problem", "inspect_csv"]


@dataclass(frozen=True)
class ColumnProfile:
    """What `inspect_csv` found in one column.

    Attributes:
        name: Header text.
        key: Sanitized name (Keras input name).
        kind: Inferred kind.
        missing: Missing cells.
        distinct: Distinct non-missing values.
        not_numeric: Cells that are not numbers, in a column inferred numeric.
        summary: min/mean/max (numeric) or the most frequent values (categorical).
        integral: Every value is a whole number (numeric columns).
        date: The spelling of its dates when it is a date column (`ml.data.dates`).

    """

    name: str
    key: str
    kind: Kind
    missing: int
    distinct: int
    not_numeric: int
    summary: dict[str, Any]
    integral: bool = False
    date: DateFormat | None = None


@dataclass(frozen=True)
class Finding:
    """One data-quality warning: which column, what, and the option that addresses it."""

    column: str | None
    problem: str
    fix: str


@dataclass(frozen=True)
class CsvProfile:
    """What `inspect_csv` found in a file: rows, one profile per column, warnings."""

    path: Path
    rows: int
    columns: tuple[ColumnProfile, ...]
    findings: tuple[Finding, ...] = field(default=())

    def spec(self, label: str, **overrides: Any) -> DatasetSpec:
        """Return a DatasetSpec with the inferred kinds written down (label excluded)."""
        ignored = {label, *overrides.get("ignore", ())}
        features = [c for c in self.columns if c.name not in ignored]
        return DatasetSpec(
            label=label,
            numeric=tuple(c.name for c in features if c.kind == "numeric"),
            categorical=tuple(c.name for c in features if c.kind == "categorical"),
            **overrides,
        )

    @property
    def drop(self) -> tuple[str, ...]:
        """The columns the findings suggest dropping, in file order."""
        flagged = {f.column for f in self.findings if f.fix.startswith("--drop")}
        return tuple(c.name for c in self.columns if c.name in flagged)


def inspect_csv(path: Path, *, delimiter: str = ",", label: str | None = None) -> CsvProfile:
    """Profile a CSV: rows, per column the inferred kind, missing cells, a summary; warnings.

    A column that only looks useless (ID-like, free text, mostly missing) gets `--drop`
    advice only when `label` is given and a quick check says it does not help or leaks the
    label (`ml.data.advice`); without a label the warning says how to measure it.

    Raises:
        DataError: the file cannot be read (empty, wrong delimiter, not UTF-8, bad rows), or
            `label` is not a column.

    """
    path = Path(path)
    header = read_header(path, delimiter)
    if label is not None and label not in header:
        raise DataError(str(path), [Problem(f"label {label!r} is not in the header {header}")])
    raw = read_table(path, header, {}, delimiter)
    keys = sanitize_names(header)
    columns = tuple(_profile(name, keys[name], raw.table.column(name)) for name in header)
    rows = raw.table.num_rows
    findings = [f for f in (header_problem(header, rows),) if f is not None]
    findings += [f for c in columns if c.name != label for f in column_findings(c, rows)]
    if label is not None and rows:
        findings = _measured(raw.table, label, columns, findings)
    repeated = repeated_rows_finding(raw.table, [n for n in header if n != label])
    findings += [repeated] if repeated is not None else []
    return CsvProfile(path=path, rows=rows, columns=columns, findings=tuple(findings))


def _measured(
    table: pa.Table, label: str, columns: tuple[ColumnProfile, ...], findings: list[Finding]
) -> list[Finding]:
    """The findings with a quick check's verdict on each column that only looks useless."""
    from ml.data.advice import measure_columns

    doubtful = [f.column for f in findings if f.column is not None and f.fix == _MEASURE]
    if not doubtful:
        return findings
    dates = {c.name: c.date for c in columns if c.date is not None}
    verdicts = {
        m.column: m for m in measure_columns(table, label, list(dict.fromkeys(doubtful)), dates)
    }
    out = []
    for f in findings:
        verdict = verdicts.get(f.column) if f.fix == _MEASURE and f.column else None
        if verdict is None:
            out.append(f)
            continue
        drop = _drop(verdict.column) if (verdict.leaks or not verdict.helps) else "keep it"
        out.append(Finding(f.column, f"{f.problem}; {verdict.reason()}", drop))
    return out


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def sklearn_style(header: list[str], rows: int) -> bool:
    """Line 1 is scikit-learn's `n_samples,n_features,class names...`, not column names."""
    if len(header) < 2:
        return False
    first, second = _number(header[0]), _number(header[1])
    return first is not None and second is not None and int(first) == rows and first > 0


def repeated_rows_finding(table: pa.Table, features: list[str]) -> Finding | None:
    """A finding when many rows have exactly another row's feature values (`features`)."""
    rows = table.num_rows
    if not features or not rows:
        return None
    groups = table.select(features).group_by(features).aggregate([([], "count_all")])
    sizes = groups.column("count_all").to_numpy()
    repeated = int(sizes[sizes > 1].sum())
    if repeated < ROWS_REPEAT_SHARE * rows:
        return None
    return Finding(
        None,
        f"{repeated} of {rows} rows ({repeated / rows:.0%}) have exactly the feature values of "
        "another row (one person, item or place in several rows?): a split by rows puts each "
        "in train and test, so the test score says how the model recalls them",
        "fine if the model will meet the same ones; to judge it on new ones, split by the "
        "column naming them (kfstack data build --group COL), or keep some of them out of the "
        "CSV and check the served model on their rows (kfstack serve check --csv)",
    )


def header_problem(header: list[str], rows: int) -> Finding | None:
    """A finding when the header line looks like data (names that are numbers)."""
    numbers = [n for n in header if _number(n) is not None]
    if sklearn_style(header, rows):
        return Finding(
            None,
            f"line 1 ({','.join(header)}) is scikit-learn's n_samples,n_features,classes, "
            "not column names: the columns would be named after numbers",
            "replace line 1 with column names (e.g. `f1,f2,...,label`)",
        )
    if numbers and len(numbers) * 2 >= len(header):
        return Finding(
            None,
            f"the header looks like data: names {', '.join(map(repr, numbers[:5]))} are numbers",
            "if the file has no header line, add one with column names",
        )
    return None


#: The fix of a column that only looks useless, until a quick check with the label says.
_MEASURE = "measure it: kfstack data inspect --label COL"


def _drop(name: str) -> str:
    return f"--drop {name!r}" if not name.isidentifier() else f"--drop {name}"


def column_findings(column: ColumnProfile, rows: int) -> list[Finding]:
    """Warnings about one column: `--drop` where it surely carries nothing, else `_MEASURE`."""
    drop = _drop(column.name)
    present = rows - column.missing
    if rows == 0:
        return []
    if present == 0:
        return [Finding(column.name, "empty: no values at all", drop)]
    found = []
    dated = column.date is not None  # a date column is read as a date: never ID-like or text
    if column.distinct == 1:
        value = next(iter(column.summary.get("top", {})), column.summary.get("min"))
        found.append(Finding(column.name, f"constant: {value!r} in every row with a value", drop))
    elif not dated and present >= MIN_ROWS_FOR_UNIQUE and _id_like(column, present):
        found.append(Finding(column.name, "ID-like: every value is different", _MEASURE))
    elif (
        not dated
        and column.kind == "categorical"
        and present >= MIN_ROWS_FOR_UNIQUE
        and column.distinct > max(HIGH_CARDINALITY, present // 2)
    ):
        found.append(
            Finding(
                column.name,
                f"high-cardinality text: {column.distinct} distinct values in {present} rows"
                " (the model reads its frequent values and words only)",
                _MEASURE,
            )
        )
    share = column.missing / rows
    if share >= MOSTLY_MISSING:
        found.append(Finding(column.name, f"mostly missing: {share:.0%} of the rows", _MEASURE))
    return found


def _id_like(column: ColumnProfile, present: int) -> bool:
    if column.distinct != present:
        return False
    if column.kind == "categorical":
        return True
    # numbers: whole numbers forming a sequence (row numbers), not measurements
    low, high = column.summary.get("min"), column.summary.get("max")
    if not column.integral or low is None or high is None:
        return False
    return bool(high - low + 1 <= 1.5 * present)


def _profile(name: str, key: str, column: pa.ChunkedArray) -> ColumnProfile:
    kind = infer_kind(column)
    text = pa.types.is_string(column.type)
    present = column.drop_null()
    not_numeric = 0
    if kind == "numeric" and text:
        not_numeric = round((1 - numeric_share(column)) * len(present))
    summary: dict[str, Any] = {}
    integral = False
    if kind == "numeric" and not text and not pa.types.is_null(column.type) and len(present):
        bounds = pc.min_max(present).as_py()
        summary = {"min": bounds["min"], "mean": pc.mean(present).as_py(), "max": bounds["max"]}
        values = pc.cast(present, pa.float64())
        integral = bool(pc.all(pc.equal(pc.floor(values), values)).as_py())
    elif len(present):
        counts = sorted(pc.value_counts(present).to_pylist(), key=lambda v: -v["counts"])
        summary = {"top": {str(v["values"]): v["counts"] for v in counts[:5]}}
    return ColumnProfile(
        name=name,
        key=key,
        kind=kind,
        missing=column.null_count,
        distinct=pc.count_distinct(present).as_py() if len(present) else 0,
        not_numeric=not_numeric,
        summary=summary,
        integral=integral,
        date=infer_date(name, column),
    )


def print_report(out: Any, path: Path, *, delimiter: str = ",", label: str | None = None) -> None:
    """Print the report of `path` to a rich console (a DataError propagates to the CLI)."""
    from rich.table import Table

    from kfstack.cli.output import short

    profile = inspect_csv(path, delimiter=delimiter, label=label)
    table = Table(title=f"{path}: {profile.rows} rows, {len(profile.columns)} columns")
    for title in ("column", "key", "kind", "missing", "distinct", "summary"):
        table.add_column(title)
    for c in profile.columns:
        summary = ", ".join(f"{k}={_fmt(v, short)}" for k, v in c.summary.items())
        if c.not_numeric:
            summary += f" ({c.not_numeric} cells not numbers)"
        kind = c.kind if c.date is None else f"{c.kind}, date {c.date}"
        table.add_row(c.name, c.key, kind, str(c.missing), str(c.distinct), summary)
    out.print(table)
    if profile.rows == 0:
        out.print("warning: no data rows (only a header line): add rows before building")
    if not profile.findings:
        out.print("no data-quality warnings")
        return
    out.print(f"{len(profile.findings)} warning(s):")
    for f in profile.findings:
        where = f"column {f.column!r}: " if f.column is not None else ""
        out.print(f"  - {where}{f.problem}  -> {f.fix}")
    if profile.drop:
        names = " ".join(repr(n) if not n.isidentifier() else n for n in profile.drop)
        out.print(f"to build without them: kfstack data build ... --drop {names}")


def _fmt(value: Any, short: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return short(value)


def check_header(path: Path, header: list[str]) -> None:
    """Refuse a scikit-learn-style first line before it becomes column names.

    Cheap unless the first two names are numbers (then the lines are counted).

    Raises:
        DataError: line 1 is `n_samples,n_features,...`.

    """
    if len(header) < 2 or _number(header[0]) is None or _number(header[1]) is None:
        return
    data = Path(path).read_bytes()
    rows = data.count(b"\n") - (0 if data.endswith(b"\n") else -1) - 1
    finding = header_problem(header, rows) if sklearn_style(header, rows) else None
    if finding is not None:
        raise DataError(str(path), [Problem(f"{finding.problem}; {finding.fix}", line=1)])
