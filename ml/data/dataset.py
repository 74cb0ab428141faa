"""CSV -> validated splits on disk (with schema.json and statistics.json) -> tf.data.Dataset.

Quick start::

    built = build_dataset(Path("adult.csv"), DatasetSpec(label="income"), Path("data/adult"))
    train = load_split(built.directory, "train", batch_size=1024)  # ({key: tensor}, label)

`build_dataset` reads and checks the whole file (one DataError lists every problem, with
file line and column), splits it deterministically (stratified for classification), fills
missing features with values taken from the train split and writes `train.csv`,
`validation.csv`, `test.csv`, `schema.json` and `statistics.json` into one directory.
`load_split` turns a split into batches of rows shuffled anew every epoch, in memory or
streaming (chosen by file size against a memory budget).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ml.data.columns import Validated, validate_csv
from ml.data.errors import DataError, Problem
from ml.data.report import ColumnProfile, CsvProfile, inspect_csv
from ml.data.schema import (
    SPLITS,
    STATISTICS_FILE,
    ColumnSchema,
    DatasetSchema,
    DatasetSpec,
    SplitInfo,
    read_schema,
)
from ml.data.shards import check_shards, write_shards
from ml.data.splits import check_fractions, count_groups, group_split, split_indices
from ml.data.stats import (
    column_statistics,
    fill,
    fill_values,
    label_statistics,
    rows_seen_in_train,
)
from ml.data.tfdata import fits_in_memory, in_memory_dataset, read_arrays, streaming_dataset

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "BuiltDataset",
    "ColumnProfile",
    "CsvProfile",
    "DataError",
    "DatasetSchema",
    "DatasetSpec",
    "build_dataset",
    "inspect_csv",
    "load_split",
    "read_schema",
    "read_split",
    "read_statistics",
]


@dataclass(frozen=True)
class BuiltDataset:
    """What `build_dataset` wrote.

    Attributes:
        directory: The dataset directory (splits, schema.json, statistics.json).
        schema: The decisions: kinds, keys, classes, fill values, split files.
        statistics: The content of statistics.json.
        rows: Split name -> rows written.
        dropped: Reason -> rows dropped (e.g. "missing label").
        filled: Header name -> cells filled, over all splits.

    """

    directory: Path
    schema: DatasetSchema
    statistics: dict[str, Any]
    rows: dict[str, int]
    dropped: dict[str, int]
    filled: dict[str, int]


def build_dataset(
    csv: Path,
    spec: DatasetSpec,
    out: Path,
    *,
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    shards: int = 1,
) -> BuiltDataset:
    """Validate `csv`, split it and write the splits, schema.json and statistics.json to `out`.

    Args:
        csv: The source file (UTF-8, header on the first line).
        spec: Label, feature kinds, task and missing-value policies; the rest is inferred.
        out: Directory to write into (created if needed; files of an earlier build replaced).
        seed: Seed of the split.
        fractions: Shares of train, validation and test.
        shards: Files each split is written as (`ml.data.shards`), for training workers.

    Raises:
        DataError: every problem with the file, by line and column; a split with fewer
            rows than `shards`.
        ValueError: bad fractions or shard count.

    """
    fractions = check_fractions(fractions)
    csv, out = Path(csv), Path(out)
    valid = validate_csv(csv, spec)
    if valid.table.num_rows == 0:
        raise DataError(str(csv), [Problem(f"no data rows left (dropped: {valid.dropped})")])
    label = valid.table.column(valid.label.key)
    _check_label(str(csv), valid)
    strata = label.to_numpy() if valid.label.classes is not None else None
    classes, source = valid.label.classes, str(csv)
    if valid.groups is None or spec.group is None:
        parts = split_indices(
            valid.table.num_rows, fractions, seed=seed, strata=strata, names=classes, source=source
        )
    else:
        parts = group_split(
            valid.groups,
            fractions,
            seed=seed,
            column=spec.group,
            strata=strata,
            names=classes,
            source=source,
        )
    check_shards(str(csv), {name: len(parts[name]) for name in SPLITS}, shards)
    train = valid.table.take(pa.array(parts["train"]))
    fills = fill_values(train, valid.kinds, spec.numeric_fill, spec.missing_token)
    out.mkdir(parents=True, exist_ok=True)
    filled_tables = {}
    infos = {}
    filled = dict.fromkeys((valid.names[k] for k in fills), 0)
    for name in SPLITS:
        table, counts = fill(valid.table.take(pa.array(parts[name])), fills)
        filled_tables[name] = table
        for key, count in counts.items():
            filled[valid.names[key]] += count
        infos[name] = _write(table, valid, out, name, delimiter=spec.delimiter, shards=shards)
    schema = DatasetSchema(
        source=str(csv),
        delimiter=spec.delimiter,
        label=valid.label,
        features=tuple(_column(spec, valid, key, fills[key]) for key in valid.kinds),
        missing_token=spec.missing_token,
        seed=seed,
        fractions=fractions,
        splits=infos,
    )
    schema.write(out)
    statistics = _statistics(valid, train, filled_tables, fills, filled)
    if valid.groups is not None:
        statistics["split_by"] = {
            "column": spec.group,
            "groups": {name: count_groups(valid.groups[parts[name]]) for name in SPLITS},
        }
    (out / STATISTICS_FILE).write_text(json.dumps(statistics, indent=2) + "\n", encoding="utf-8")
    return BuiltDataset(
        directory=out,
        schema=schema,
        statistics=statistics,
        rows={n: t.num_rows for n, t in filled_tables.items()},
        dropped=valid.dropped,
        filled=filled,
    )


def _check_label(source: str, valid: Validated) -> None:
    """Refuse a label a model cannot learn: one class, or one value for regression."""
    column = valid.table.column(valid.label.key)
    label = valid.label
    present = pc.unique(column).to_pylist()
    if len(present) >= 2:
        return
    what, whats = ("class", "classes") if label.classes is not None else ("value", "values")
    shown = [label.classes[int(v)] for v in present] if label.classes is not None else present
    raise DataError(
        source,
        [
            Problem(
                f"the label has one {what} ({shown[0]!r}) in all {column.length()} rows: "
                f"a model needs at least two {whats} to learn anything; check the label "
                "column and the rows dropped",
                column=label.name,
            )
        ],
    )


def _column(spec: DatasetSpec, valid: Validated, key: str, value: float | str) -> ColumnSchema:
    name = valid.names[key]
    return ColumnSchema(
        name=name,
        key=key,
        kind=valid.kinds[key],
        missing=spec.policy(name),
        fill=value,
        date=valid.dates.get(key),
    )


def _write(
    table: pa.Table, valid: Validated, out: Path, name: str, *, delimiter: str, shards: int
) -> SplitInfo:
    """Write one split as `<name>.csv`, or as `shards` shard files when more than one."""
    if shards > 1:
        return write_shards(
            table, name, shards, out, lambda part, path: _write_split(part, valid, path, delimiter)
        )
    _write_split(table, valid, out / f"{name}.csv", delimiter)
    return SplitInfo(file=f"{name}.csv", rows=table.num_rows)


def _write_split(table: pa.Table, valid: Validated, path: Path, delimiter: str) -> None:
    classes = valid.label.classes
    if classes is not None:
        key = valid.label.key
        names = pc.take(pa.array(classes, pa.string()), table.column(key))
        table = table.set_column(table.schema.get_field_index(key), key, names)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(delimiter=delimiter))


def _statistics(
    valid: Validated,
    train: pa.Table,
    tables: dict[str, pa.Table],
    fills: dict[str, float | str],
    filled: dict[str, int],
) -> dict[str, Any]:
    kept = valid.table.num_rows
    columns = {
        key: {"name": valid.names[key]}
        | column_statistics(train.column(key), tables["train"].column(key), kind, fills[key])
        for key, kind in valid.kinds.items()
    }
    label = valid.label
    return {
        "format_version": 1,
        "columns_from": "train",
        "rows": {"file": kept + sum(valid.dropped.values()), "kept": kept}
        | {name: t.num_rows for name, t in tables.items()},
        "dropped": valid.dropped,
        "missing": valid.missing,
        "filled": filled,
        "columns": columns,
        "seen_in_train": rows_seen_in_train(
            tables["train"],
            {name: tables[name] for name in ("validation", "test")},
            list(valid.kinds),
        ),
        "label": {"name": label.name, "key": label.key, "task": label.task}
        | {name: label_statistics(t.column(label.key), label) for name, t in tables.items()},
    }


def read_statistics(dataset_dir: Path) -> dict[str, Any]:
    """Read the statistics.json of a built dataset."""
    data: dict[str, Any] = json.loads((Path(dataset_dir) / STATISTICS_FILE).read_text("utf-8"))
    return data


def _split_path(dataset_dir: Path, schema: DatasetSchema, split: str) -> Path:
    if split not in schema.splits:
        raise ValueError(f"unknown split {split!r}; the dataset has {sorted(schema.splits)}")
    if schema.splits[split].shards:
        raise ValueError(
            f"{dataset_dir}: split {split!r} is written as {len(schema.splits[split].shards)} "
            "shards (`data build --shards`): train on it with `kfstack train --workers N`"
        )
    return Path(dataset_dir) / schema.splits[split].file


def read_split(dataset_dir: Path, split: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Read a split as arrays: features by key (float32 or str), label (class index or value)."""
    schema = read_schema(dataset_dir)
    return read_arrays(_split_path(dataset_dir, schema, split), schema)


def load_split(
    dataset_dir: Path,
    split: str,
    *,
    batch_size: int = 1024,
    shuffle: bool | None = None,
    seed: int = 0,
    streaming: bool | None = None,
    memory_budget: int | None = None,
    passes: int = 1,
) -> tf.data.Dataset:
    """Load a split as a tf.data.Dataset of (features by key, label) batches.

    Args:
        dataset_dir: A directory written by `build_dataset`.
        split: "train", "validation" or "test".
        batch_size: Rows per batch (the last batch may be smaller).
        shuffle: Shuffle rows anew every epoch; None shuffles the train split only.
        seed: Seed of the shuffles (the sequence of epochs is reproducible).
        streaming: Force the streaming (True) or in-memory (False) path; None picks
            streaming when the split does not fit in `memory_budget`.
        memory_budget: Bytes the in-memory path may use; None is half the available memory.
        passes: Passes over the rows per iteration (in memory only; see `ml.model.training.plan`).

    """
    schema = read_schema(dataset_dir)
    path = _split_path(dataset_dir, schema, split)
    shuffle = split == "train" if shuffle is None else shuffle
    if streaming is None:
        streaming = not fits_in_memory(path, memory_budget)
    if streaming:  # big files: one pass per iteration is plenty
        rows = schema.splits[split].rows
        return streaming_dataset(
            path, schema, batch_size=batch_size, shuffle=shuffle, seed=seed, rows=rows
        )
    features, label = read_arrays(path, schema)
    return in_memory_dataset(
        features, label, schema, batch_size=batch_size, shuffle=shuffle, seed=seed, passes=passes
    )
