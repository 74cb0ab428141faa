"""What a dataset is: the spec a user writes, and the schema written next to the built dataset.

`DatasetSpec` is the request (label, feature kinds, task, missing-value policies); parts left
out are inferred from the file. `DatasetSchema` is the answer, with everything written down
(kinds, sanitized Keras input names, fill values from the training split, classes), stored
as `schema.json` so training and serving read the same decisions.
"""

from __future__ import annotations

import json
import keyword
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ml.data.dates import DateFormat

Kind = Literal["numeric", "categorical"]
Task = Literal["classification", "regression"]
MissingPolicy = Literal["fail", "drop", "fill"]
NumericFill = Literal["median", "mean"]

SCHEMA_FILE = "schema.json"
STATISTICS_FILE = "statistics.json"
SPLITS = ("train", "validation", "test")
#: Cell texts read as missing (an empty cell included).
NULL_VALUES = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")

#: What a key (Keras input, serving signature argument) may be: an ASCII identifier.
KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: Longest key: the release record allows 128 characters, a readable name needs fewer.
MAX_KEY_LENGTH = 64
#: Names a signature argument cannot have besides Python keywords: TensorFlow's signature
#: wrapper is a method whose first parameter is `self`.
RESERVED_KEYS = frozenset({"self"})

_INVALID = re.compile(r"[^0-9A-Za-z]+")


def key_problem(key: str) -> str | None:
    """Why `key` cannot be a Keras input / serving signature name, or None when it can."""
    if not KEY_PATTERN.fullmatch(key):
        return "not an ASCII identifier starting with a letter"
    if keyword.iskeyword(key) or key in RESERVED_KEYS:
        return "a Python keyword or reserved name (TensorFlow refuses it as a parameter)"
    if len(key) > MAX_KEY_LENGTH:
        return f"longer than {MAX_KEY_LENGTH} characters"
    return None


def _valid_key(key: str) -> str:
    problem = key_problem(key)
    if problem is not None:
        raise ValueError(f"key {key!r} is {problem}")
    return key


Key = Annotated[str, AfterValidator(_valid_key)]


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
        group: A column whose rows stay together: every row with the same value goes to the
            same split (a person's id when a person has several rows), so the test split
            measures the model on groups it has not seen (`ml.data.splits.group_split`).
            It is not a feature. None: rows are split one by one.
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
    group: str | None = None
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
        if self.group is not None and self.group in {self.label, *self.numeric, *self.categorical}:
            raise ValueError(
                f"group column {self.group!r} is the label or a declared feature: the rows are "
                "split by it, so it cannot also be read by the model"
            )
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
        date: The spelling of its dates when it is a date column (`ml.data.dates`), else None.

    """

    name: str
    key: Key
    kind: Kind
    missing: MissingPolicy
    fill: float | str
    date: DateFormat | None = None


class LabelSchema(_Frozen):
    """The label column: task and, for classification, the classes in output order."""

    name: str
    key: Key
    task: Task
    classes: tuple[str, ...] | None = None


class ShardInfo(_Frozen):
    """One shard file of a sharded split (relative to the dataset directory) and its rows."""

    file: str
    rows: int


class SplitInfo(_Frozen):
    """One written split: its file (relative to the dataset directory) and row count.

    A split written as shards (`kfstack data build --shards N`, `ml.data.shards`) lists them
    in `shards`; its `file` is then the pattern of their names, not a file.
    """

    file: str
    rows: int
    shards: tuple[ShardInfo, ...] = ()


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
    """Map each header name to a unique, valid key (`key_problem` says what valid is).

    The rule, applied to the whole header in file order so a name always gets the same key:
    accents are dropped ("naïve" -> "naive"), other letters and digits outside ASCII
    become `u<hex code>` ("温度" -> "u6e29_u5ea6"), every run of other characters becomes
    "_" ("petal width (cm)" -> "petal_width_cm"); a key starting with a digit gets a "c_"
    prefix ("2nd" -> "c_2nd"), a Python keyword or reserved name a "_" suffix ("class" ->
    "class_", "self" -> "self_"); keys are cut to `MAX_KEY_LENGTH` - 1 characters; a key equal
    (ignoring case) to an earlier one gets "_2", "_3" ... ("a b" and "a-b" -> "a_b", "a_b_2").
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        key = _ascii_key(name)
        if key[0].isdigit():
            key = f"c_{key}"
        key = key[: MAX_KEY_LENGTH - 1].rstrip("_")
        if keyword.iskeyword(key) or key in RESERVED_KEYS:
            key = f"{key}_"
        base, n = key, 2
        while key.lower() in used or key_problem(key) is not None:
            suffix = f"_{n}"
            key, n = base[: MAX_KEY_LENGTH - len(suffix)] + suffix, n + 1
        used.add(key.lower())
        out[name] = key
    return out


def _ascii_key(name: str) -> str:
    """`name` as ASCII letters, digits and single "_" between them ("column" if none)."""
    parts = []
    for char in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(char):
            continue
        if not char.isascii() and char.isalnum():
            parts.append(f"_u{ord(char):04x}_")
        else:
            parts.append(char)
    return _INVALID.sub("_", "".join(parts)).strip("_") or "column"
