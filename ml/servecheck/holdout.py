"""The holdout CSV, read with the ml package's CSV reader against the release's input schema.

Inputs are matched to header columns by name, or by the sanitized key the ml package gives a
header name (so the raw file and a built split both work). Numeric inputs are read as float32
(a missing cell is NaN), categorical ones as text (a missing cell is "", which the model reads
as missing, as `ml.model.network.predict_rows` sends it). The label is kept as text; scoring
turns it into class indices or numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ml.data import LineMap, ProblemList, read_header, read_table, sanitize_names
from ml.model_release import ColumnKind, InputColumn

#: Rows with a missing label listed by line before summing up.
_LISTED = 10


@dataclass(frozen=True)
class Holdout:
    """Held-out rows: inputs by the model's input name, the label as text, file lines.

    Attributes:
        path: The CSV file.
        features: Input name -> float32 (numeric) or object (text) array.
        label: The label cells, as text.
        label_column: The header name of the label column.
        lines: Maps a row index to its file line (for reports).

    """

    path: Path
    features: dict[str, np.ndarray]
    label: np.ndarray
    label_column: str
    lines: LineMap

    @property
    def rows(self) -> int:
        """The number of data rows."""
        return len(self.label)


def _find(name: str, header: list[str], keys: dict[str, str]) -> str | None:
    """The header column holding `name`: by name, or by the key either of them sanitizes to."""
    if name in header:
        return name
    key = sanitize_names([name])[name]
    return next((h for h in header if keys[h] in (name, key)), None)


def _label_column(
    label: str | None,
    header: list[str],
    keys: dict[str, str],
    used: set[str],
    problems: ProblemList,
) -> str | None:
    if label is not None:
        found = _find(label, header, keys)
        if found is None:
            problems.add(f"label column {label!r} is not in the header {header}", line=1)
        return found
    others = [h for h in header if h not in used]
    if len(others) == 1:
        return others[0]
    problems.add(
        f"cannot tell the label column among {others or 'no other columns'}: pass --label",
        line=1,
    )
    return None


def read_holdout(
    path: Path,
    inputs: Sequence[InputColumn],
    *,
    label: str | None = None,
    delimiter: str = ",",
) -> Holdout:
    """Read `path`: every input of the served model, and the label column.

    Args:
        path: A CSV with a header line.
        inputs: The release record's input schema.
        label: The label column (header name or key); None takes the one column that is
            not an input.
        delimiter: The field separator.

    Raises:
        DataError: missing inputs or label, unreadable cells or rows, missing labels
            (each problem with its line and column).

    """
    path = Path(path)
    header = read_header(path, delimiter)
    keys = sanitize_names(header)
    problems = ProblemList(str(path))
    columns: dict[str, str] = {}
    for column in inputs:
        found = _find(column.name, header, keys)
        if found is None:
            problems.add(f"the model's input {column.name!r} is not in the header {header}", line=1)
        else:
            columns[column.name] = found
    label_column = _label_column(label, header, keys, set(columns.values()), problems)
    problems.raise_if_any()
    assert label_column is not None
    types = {
        columns[c.name]: pa.float32() if c.kind is ColumnKind.NUMERIC else pa.string()
        for c in inputs
    }
    types[label_column] = pa.string()
    raw = read_table(path, header, types, delimiter, include=[*columns.values(), label_column])
    raw.problems.raise_if_any()
    table = raw.table
    features = {}
    for c in inputs:
        cells = table.column(columns[c.name])
        if c.kind is ColumnKind.NUMERIC:
            features[c.name] = cells.to_numpy().astype(np.float32)
        else:
            features[c.name] = np.asarray(cells.fill_null("").to_pylist(), dtype=object)
    labels = table.column(label_column)
    _check_labels(labels, label_column, raw.lines, problems)
    return Holdout(
        path=path,
        features=features,
        label=np.asarray(labels.to_pylist(), dtype=object),
        label_column=label_column,
        lines=raw.lines,
    )


def _check_labels(
    labels: pa.ChunkedArray, column: str, lines: LineMap, problems: ProblemList
) -> None:
    missing = np.flatnonzero(labels.is_null().to_numpy(zero_copy_only=False))
    for row in missing[:_LISTED]:
        problems.add(
            "missing label: a held-out row needs its label",
            line=lines.line(int(row)),
            column=column,
        )
    if len(missing) > _LISTED:
        problems.add(f"{len(missing) - _LISTED} more rows without a label", column=column)
    if labels.length() == 0:
        problems.add("no data rows to check")
    problems.raise_if_any()
