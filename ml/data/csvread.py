"""CSV -> typed Arrow table, with every problem reported by file line and column.

The fast path is one multi-threaded `pyarrow.csv.read_csv` with explicit column types. Only
when it fails (a bad row, a non-numeric cell, bytes that are not UTF-8) does the slow path
run: it re-reads everything as text, single-threaded, to find *all* the problems and where
they are, and raises one DataError listing them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ml.data.dates import DateFormat, detect_format, is_epoch_seconds
from ml.data.errors import DataError, ProblemList
from ml.data.schema import NULL_VALUES, Kind

_DELIMITERS = (",", ";", "\t", "|")
_HEADER_LIMIT = 1 << 20
#: An undeclared text column is numeric when this share of a sample parses as numbers.
_NUMERIC_SHARE = 0.9
_SAMPLE = 2000


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    """Read and check the header: exists, UTF-8, right delimiter, unique non-empty names.

    Raises:
        DataError: listing every header problem.

    """
    problems = ProblemList(str(path))
    with path.open("rb") as fh:
        raw = fh.readline(_HEADER_LIMIT)
    if not raw.strip():
        problems.add("empty file: expected a header line and data rows")
        problems.raise_if_any()
    try:
        text = raw.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as err:
        problems.add(_encoding_message(err.start, raw[err.start : err.start + 4]), line=1)
        problems.raise_if_any()
    names = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    if len(names) == 1:
        guess = next((d for d in _DELIMITERS if d != delimiter and d in text), None)
        if guess is not None:
            problems.add(
                f"the header is one column {text[:80]!r}; the file looks {guess!r}-separated, "
                f"not {delimiter!r}-separated (set the delimiter to {guess!r})",
                line=1,
            )
    for i, name in enumerate(names, start=1):
        if not name.strip():
            problems.add(f"column {i} has an empty name", line=1)
    for name in sorted({n for n in names if n.strip() and names.count(n) > 1}):
        problems.add(f"duplicate column name ({names.count(name)} times)", line=1, column=name)
    problems.raise_if_any()
    return names


def _encoding_message(offset: int, sample: bytes) -> str:
    return (
        f"not UTF-8: byte offset {offset} ({sample!r}); re-encode the file as UTF-8 "
        "(e.g. `iconv -f latin1 -t utf-8`)"
    )


class LineMap:
    """Maps a data row index to its 1-based physical file line (computed only when needed).

    A record whose quoted field holds line breaks spans several lines: the records after
    it start further down, and their line numbers say so.
    """

    def __init__(self, path: Path, skipped: tuple[int, ...] = (), delimiter: str = ",") -> None:
        self.path = path
        self.skipped = skipped
        self.delimiter = delimiter

    @cached_property
    def nonempty(self) -> np.ndarray:
        """1-based first lines of the non-empty records (the header included)."""
        raw = self.path.read_bytes()
        if b'"' in raw:
            return self._record_starts()
        data = np.frombuffer(raw, dtype=np.uint8)
        ends = np.flatnonzero(data == ord("\n"))
        if len(data) and data[-1] != ord("\n"):
            ends = np.append(ends, len(data))
        starts = np.concatenate(([0], ends[:-1] + 1))
        length = ends - starts
        carriage = (length == 1) & (data[np.minimum(starts, len(data) - 1)] == ord("\r"))
        return np.flatnonzero((length > 0) & ~carriage) + 1

    def _record_starts(self) -> np.ndarray:
        """First lines of the records, parsed with quotes (only files that have quotes)."""
        starts, previous = [], 0
        with self.path.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            for row in reader:
                if row:  # pyarrow skips empty lines
                    starts.append(previous + 1)
                previous = reader.line_num
        return np.array(starts, dtype=np.int64)

    @cached_property
    def _lines(self) -> np.ndarray:
        lines = self.nonempty
        # pyarrow numbers invalid rows among the non-empty lines (header = 1).
        keep = np.ones(len(lines), dtype=bool)
        keep[0] = False
        keep[[n - 1 for n in self.skipped if 0 < n <= len(lines)]] = False
        return lines[keep]

    def line(self, row: int) -> int | None:
        """Return the file line of data row `row` (0-based), if known."""
        return int(self._lines[row]) if row < len(self._lines) else None


@dataclass(frozen=True)
class RawTable:
    """A parsed CSV: typed columns by header name, and where each row came from."""

    table: pa.Table
    lines: LineMap
    problems: ProblemList = field(repr=False)


def _options(
    delimiter: str,
    types: Mapping[str, pa.DataType],
    include: list[str],
    *,
    threads: bool,
    on_bad: Callable[[pacsv.InvalidRow], str],
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    # pyarrow infers an undeclared column's type from the first block: a large block makes a
    # change of type further down (ints, then "3.5") less likely. When every column is
    # declared there is nothing to infer and pyarrow's default (1 MB) parses ~1.7x faster
    # on two cores (more blocks to share between the threads).
    inferring = any(name not in types for name in include)
    read = pacsv.ReadOptions(use_threads=threads, block_size=(16 << 20) if inferring else 1 << 20)
    parse = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad)
    convert = pacsv.ConvertOptions(
        column_types=dict(types),
        include_columns=include,
        null_values=list(NULL_VALUES),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    return read, parse, convert


def read_table(
    path: Path,
    header: list[str],
    types: Mapping[str, pa.DataType],
    delimiter: str = ",",
    *,
    include: list[str] | None = None,
) -> RawTable:
    """Parse `path` with the given column types (others inferred by pyarrow).

    Problems that do not stop parsing (none on the fast path) are returned in
    `RawTable.problems`; the slow path raises when the file cannot be read at all.

    Raises:
        DataError: bad rows, non-numeric cells of numeric columns or non-UTF-8 bytes.

    """
    bad: list[int | None] = []
    columns = include if include is not None else header

    def on_bad(row: pacsv.InvalidRow) -> str:
        bad.append(row.number)
        return "skip"

    options = _options(delimiter, types, columns, threads=True, on_bad=on_bad)
    try:
        table = pacsv.read_csv(path, *options)
    except (pa.ArrowInvalid, UnicodeDecodeError) as err:
        return _diagnose(path, columns, types, delimiter, err)
    # pyarrow reads an undeclared column holding invalid UTF-8 as binary, without error
    if bad or any(pa.types.is_binary(f.type) for f in table.schema):
        return _diagnose(path, columns, types, delimiter, None)
    return RawTable(table, LineMap(path, delimiter=delimiter), ProblemList(str(path)))


def _diagnose(
    path: Path,
    header: list[str],
    types: Mapping[str, pa.DataType],
    delimiter: str,
    error: Exception | None,
) -> RawTable:
    problems = ProblemList(str(path))
    _check_encoding(path, problems)
    bad: list[tuple[int | None, int, int]] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    text = dict.fromkeys(header, pa.string())
    table = pacsv.read_csv(path, *_options(delimiter, text, header, threads=False, on_bad=on_bad))
    lines = LineMap(path, tuple(n for n, _, _ in bad if n is not None), delimiter)
    for number, expected, actual in bad:
        line = None if number is None else int(lines.nonempty[number - 1])
        problems.add(f"expected {expected} fields, found {actual}", line=line)
    columns = {}
    for name in header:
        column = table.column(name)
        kind = types.get(name)
        if kind is not None and pa.types.is_floating(kind):
            column = to_numeric(column, name, lines, problems)
        columns[name] = column
    if not problems.items and error is not None:
        problems.add(f"cannot parse: {error}")
    problems.raise_if_any()
    return RawTable(pa.table(columns), lines, problems)


def _check_encoding(path: Path, problems: ProblemList) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        problems.add(_encoding_message(err.start, data[err.start : err.start + 4]), line=line)
        problems.raise_if_any()


def to_numeric(
    column: pa.ChunkedArray, name: str, lines: LineMap, problems: ProblemList
) -> pa.ChunkedArray:
    """Cast text cells to float32; every non-empty cell that is not a number is a problem."""
    import pandas as pd

    text = column.to_pandas()
    values = pd.to_numeric(text, errors="coerce")
    wrong = np.flatnonzero(values.isna().to_numpy() & text.notna().to_numpy())
    for row in wrong:
        problems.add(
            f"expected a number, found {text.iloc[row]!r}", line=lines.line(int(row)), column=name
        )
    values[wrong] = np.nan
    return pa.chunked_array([pa.array(values.to_numpy(dtype=np.float32), from_pandas=True)])


def numeric_share(column: pa.ChunkedArray) -> float:
    """Return the share of a sample of non-missing text cells that parse as numbers."""
    import pandas as pd

    sample = column.drop_null().slice(0, _SAMPLE).to_pandas()
    if sample.empty:
        return 0.0
    return float(pd.to_numeric(sample, errors="coerce").notna().mean())


def infer_kind(column: pa.ChunkedArray) -> Kind:
    """Numeric for number-typed (or mostly numeric text) columns, categorical otherwise."""
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
        return "numeric"
    if pa.types.is_string(kind) and numeric_share(column) >= _NUMERIC_SHARE:
        return "numeric"
    return "categorical"


def infer_date(name: str, column: pa.ChunkedArray, *, declared: bool = False) -> DateFormat | None:
    """The spelling of a column's dates when it is a date column (`ml.data.dates`), else None.

    Numbers are epoch seconds where the header says so; a text column (`declared`
    categorical excepted: it stays categories) is when all its values are dates of one
    spelling.
    """
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = pc.cast(column.drop_null(), pa.float64()).to_numpy()
        return "epoch-seconds" if is_epoch_seconds(name, values.tolist()) else None
    if declared or pa.types.is_null(kind):
        return None
    found = detect_format(pc.unique(as_text(column).drop_null()).to_pylist())
    return None if found == "ambiguous" else found


def as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return the column as strings (missing stays missing)."""
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


__all__ = ["DataError", "LineMap", "RawTable", "infer_kind", "read_header", "read_table"]
