"""tf.data input pipelines over a split file: in memory (gathered batches) or streaming.

In memory: the split is parsed once with pyarrow into column tensors; every epoch a new
permutation of the row indices is cut into batches and each batch is gathered, so the
rows of one batch come from anywhere in the file and every epoch differs.

Streaming: `TextLineDataset` -> shuffle buffer of lines -> batch -> `decode_csv`, in constant
memory (the buffer), for files larger than memory; rows mix within the buffer window.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ml.data.csvread import read_header
from ml.data.errors import DataError, Problem
from ml.data.schema import DatasetSchema

if TYPE_CHECKING:
    import tensorflow as tf

#: Lines held by the streaming shuffle buffer (~20 MB for 200-byte rows).
SHUFFLE_BUFFER = 100_000
#: An in-memory split takes about this many times its CSV size while loading.
_MEMORY_FACTOR = 2


def default_memory_budget() -> int:
    """Half of the memory available now, in bytes."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def fits_in_memory(path: Path, budget: int | None = None) -> bool:
    """Whether the in-memory path can load `path` within `budget` bytes."""
    budget = default_memory_budget() if budget is None else budget
    return path.stat().st_size * _MEMORY_FACTOR <= budget


def csv_options(schema: DatasetSchema) -> tuple[pacsv.ParseOptions, pacsv.ConvertOptions]:
    """How pyarrow reads a written split: the schema's delimiter, columns and types."""
    types = {c.key: pa.float32() if c.kind == "numeric" else pa.string() for c in schema.features}
    regression = schema.label.task == "regression"
    types[schema.label.key] = pa.float32() if regression else pa.string()
    convert = pacsv.ConvertOptions(
        column_types=types, include_columns=list(schema.columns), strings_can_be_null=False
    )
    return pacsv.ParseOptions(delimiter=schema.delimiter), convert


def read_arrays(path: Path, schema: DatasetSchema) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Parse a written split into feature arrays (by key) and the label array."""
    parse, convert = csv_options(schema)
    return table_arrays(pacsv.read_csv(path, parse_options=parse, convert_options=convert), schema)


def table_arrays(
    table: pa.Table | pa.RecordBatch, schema: DatasetSchema
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Rows of a split read with `csv_options` as feature arrays (by key) and the label array."""
    features = {c.key: _to_numpy(table.column(c.key)) for c in schema.features}
    label = table.column(schema.label.key)
    if schema.label.task != "regression":
        label = pc.cast(pc.index_in(label, value_set=pa.array(schema.label.classes)), pa.int32())
    return features, _to_numpy(label)


def _to_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if isinstance(column, pa.Array):
        return column.to_numpy(zero_copy_only=False)
    return column.to_numpy() if column.num_chunks else np.asarray(column.to_pylist())


def in_memory_dataset(
    features: dict[str, np.ndarray],
    label: np.ndarray,
    schema: DatasetSchema,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    passes: int = 1,
) -> tf.data.Dataset:
    """Batches gathered from row indices, permuted anew every pass when `shuffle`.

    `passes` > 1 makes one iteration (a Keras epoch) go over the rows that many times, each
    in a new order: small files then pay the per-epoch costs less often.
    """
    import tensorflow as tf

    n = len(label)
    numeric = [c.key for c in schema.numeric]
    matrix = tf.constant(np.stack([features[k] for k in numeric], axis=1)) if numeric else None
    strings = {c.key: tf.constant(features[c.key]) for c in schema.categorical}
    labels = tf.constant(label)

    def gather(index: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        out = {}
        if matrix is not None:
            out = dict(zip(numeric, tf.unstack(tf.gather(matrix, index), axis=1), strict=True))
        out |= {key: tf.gather(column, index) for key, column in strings.items()}
        return {c.key: out[c.key] for c in schema.features}, tf.gather(labels, index)

    def batches(permutation: tf.Tensor) -> tf.data.Dataset:
        full = n // batch_size
        head = tf.reshape(permutation[: full * batch_size], (full, batch_size))
        ds = tf.data.Dataset.from_tensor_slices(head)
        if n % batch_size:
            ds = ds.concatenate(tf.data.Dataset.from_tensors(permutation[full * batch_size :]))
        return ds

    if shuffle:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(passes)
        order = seeds.map(
            lambda s: tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int64), seed=tf.stack([s, tf.constant(seed, tf.int64)])
            )
        )
    else:
        order = tf.data.Dataset.from_tensors(tf.range(n, dtype=tf.int64)).repeat(passes)
    ds = order.flat_map(batches).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.apply(tf.data.experimental.assert_cardinality(passes * -(-n // batch_size)))
    return ds.prefetch(tf.data.AUTOTUNE)


def streaming_dataset(
    path: Path,
    schema: DatasetSchema,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    buffer: int = SHUFFLE_BUFFER,
    rows: int | None = None,
) -> tf.data.Dataset:
    """Batches decoded from shuffled text lines of `path`, in constant memory.

    `path` may be a written split (header of keys) or any CSV with the source's header
    (header names); extra columns are skipped, missing cells get the schema's fill values
    and rows whose label is missing or unknown are dropped. `rows` is for a written split:
    its row count (the batches Keras expects per epoch), with those checks skipped.
    """
    import tensorflow as tf

    header = read_header(path, schema.delimiter)
    wanted = [(c.key, c.name, c.fill) for c in schema.features]
    regression = schema.label.task == "regression"
    wanted.append((schema.label.key, schema.label.name, "" if not regression else float("nan")))
    positions = [_position(header, key, name, path) for key, name, _ in wanted]
    order = np.argsort(positions)
    defaults = [_default(wanted[i][2]) for i in order]
    keys = [wanted[i][0] for i in order]
    table = None
    if not regression:
        classes = tf.constant(schema.label.classes)
        init = tf.lookup.KeyValueTensorInitializer(classes, tf.range(len(classes)))
        table = tf.lookup.StaticHashTable(init, default_value=-1)

    def decode(lines: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
        if rows is None:  # any CSV: skip blank lines
            lines = tf.boolean_mask(lines, tf.strings.length(tf.strings.strip(lines)) > 0)
        fields = tf.io.decode_csv(
            lines, defaults, field_delim=schema.delimiter, select_cols=sorted(positions)
        )
        row = dict(zip(keys, fields, strict=True))
        label = (
            row.pop(schema.label.key) if table is None else table.lookup(row.pop(schema.label.key))
        )
        features = {c.key: row[c.key] for c in schema.features}
        if rows is not None:  # a written split: no blank lines, every label valid
            return features, label
        keep = tf.math.is_finite(label) if table is None else label >= 0
        return {k: tf.boolean_mask(v, keep) for k, v in features.items()}, tf.boolean_mask(
            label, keep
        )

    ds = tf.data.TextLineDataset(str(path)).skip(1)
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    if rows is not None:
        ds = ds.apply(tf.data.experimental.assert_cardinality(-(-rows // batch_size)))
    return ds.prefetch(tf.data.AUTOTUNE)


def _position(header: list[str], key: str, name: str, path: Path) -> int:
    for candidate in (key, name):
        if candidate in header:
            return header.index(candidate)
    raise DataError(str(path), [Problem("not in the header", line=1, column=name)])


def _default(fill: Any) -> Any:
    import tensorflow as tf

    if isinstance(fill, str):
        return tf.constant([fill])
    return tf.constant([float(fill)], tf.float32)
