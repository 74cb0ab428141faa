"""What a dataset is: the spec a user writes, and the schema written next to the built dataset.

`DatasetSpec` is the request (label, feature kinds, task, missing-value policies); parts left
out are inferred from the file. `DatasetSchema` is the answer, with everything written down
(kinds, sanitized Keras input names, fill values from the training split, classes), stored
as `schema.json` so training and serving read the same decisions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["numeric", "categorical"]
Task = Literal["classification", "regression"]
MissingPolicy = Literal["fail", "drop", "fill"]
NumericFill = Literal["median", "mean"]

SCHEMA_FILE = "schema.json"
STATISTICS_FILE = "statistics.json"
SPLITS = ("train", "validation", "test")
#: Cell texts read as missing (an empty cell included).
NULL_VALUES = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")

_INVALID = re.compile(r"[^0-9A-Za-z_]+")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetSpec(_Frozen):
    """How to read a CSV into a dataset; what is left out is inferred from the file.

    Attributes:
        label: The label column, as written in the header.
        task: "classification" or "regression"; None infers it from the label values.
        classes: The allowed labels (classification), in output order; None infers them.
        numeric: Columns declared numeric.
        categorical: Columns declared categorical (read as text, even if they look numeric).
        ignore: Columns not used at all.
        infer_others: Whether columns not declared are used as features with an inferred kind
            (otherwise only the declared columns are features).
        missing: Missing-value policy per column ("fail", "drop" the row, "fill"). Default:
            "drop" for the label, "fill" for features.
        numeric_fill: The training-split statistic numeric gaps are filled with.
        missing_token: The category that stands for a missing categorical value.
        delimiter: The field separator of the file.

    """

    label: str
    task: Task | None = None
    classes: tuple[str, ...] | None = None
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    infer_others: bool = True
    missing: dict[str, MissingPolicy] = Field(default_factory=dict)
    numeric_fill: NumericFill = "median"
    missing_token: str = "[MISSING]"
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSpec:
        declared = [*self.numeric, *self.categorical, *self.ignore]
        twice = sorted({c for c in declared if declared.count(c) > 1})
        if twice:
            raise ValueError(f"columns declared more than once: {twice}")
        if self.label in declared:
            raise ValueError(f"label {self.label!r} is also declared as a feature or ignored")
        if self.missing.get(self.label) == "fill":
            raise ValueError(f"label {self.label!r}: missing labels can be dropped or fail")
        if self.classes is not None:
            if self.task == "regression":
                raise ValueError("classes are only allowed with task classification")
            if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
                raise ValueError(f"classes must be at least two distinct values: {self.classes}")
        return self

    def policy(self, column: str) -> MissingPolicy:
        """Return the missing-value policy of `column`."""
        return self.missing.get(column, "drop" if column == self.label else "fill")


class ColumnSchema(_Frozen):
    """One feature column as the model sees it.

    Attributes:
        name: The header text in the source file.
        key: The sanitized name: Keras input name, serving signature argument, split header.
        kind: "numeric" or "categorical".
        missing: The missing-value policy applied when building.
        fill: The value filling a missing cell (training median/mean, or the missing token).

    """

    name: str
    key: str
    kind: Kind
    missing: MissingPolicy
    fill: float | str


class LabelSchema(_Frozen):
    """The label column: task and, for classification, the classes in output order."""

    name: str
    key: str
    task: Task
    classes: tuple[str, ...] | None = None


class SplitInfo(_Frozen):
    """One written split: its file (relative to the dataset directory) and row count."""

    file: str
    rows: int


class DatasetSchema(_Frozen):
    """Everything decided about a built dataset, written as schema.json."""

    format_version: Literal[1] = 1
    source: str
    delimiter: str
    label: LabelSchema
    features: tuple[ColumnSchema, ...]
    missing_token: str
    seed: int
    fractions: tuple[float, float, float]
    splits: dict[str, SplitInfo]

    @property
    def numeric(self) -> tuple[ColumnSchema, ...]:
        """The numeric features, in file order."""
        return tuple(c for c in self.features if c.kind == "numeric")

    @property
    def categorical(self) -> tuple[ColumnSchema, ...]:
        """The categorical features, in file order."""
        return tuple(c for c in self.features if c.kind == "categorical")

    @property
    def columns(self) -> tuple[str, ...]:
        """The split files' header: feature keys then the label key."""
        return (*(c.key for c in self.features), self.label.key)

    def write(self, directory: Path) -> Path:
        """Write schema.json into `directory` and return its path."""
        path = directory / SCHEMA_FILE
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return path


def read_schema(dataset_dir: Path) -> DatasetSchema:
    """Read the schema.json of a built dataset.

    Raises:
        FileNotFoundError: `dataset_dir` holds no schema.json (not a built dataset).

    """
    path = Path(dataset_dir) / SCHEMA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no schema.json; build the dataset first")
    return DatasetSchema.model_validate(json.loads(path.read_text(encoding="utf-8")))


def sanitize_names(names: list[str]) -> dict[str, str]:
    """Map each header name to a unique Keras input / signature name ([A-Za-z][A-Za-z0-9_]*).

    Runs of other characters become "_", a leading digit or "_" gets a "c_" prefix and
    clashes get a numeric suffix, so "petal width (cm)" becomes "petal_width_cm".
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        key = _INVALID.sub("_", name.strip()).strip("_") or "column"
        if not key[0].isalpha():
            key = f"c_{key}"
        base, n = key, 2
        while key.lower() in used:
            key, n = f"{base}_{n}", n + 1
        used.add(key.lower())
        out[name] = key
    return out
