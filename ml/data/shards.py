"""Splits written as shard files, so that each training worker reads only its own.

`kfstack data build --shards N` writes each split as N files, `train-00000-of-00004.csv` ...,
dealt row by row (row i goes to shard i mod N, so every shard has the split's mix of classes
and of the file's order), each with the split's header; schema.json lists them with their row
counts (`SplitInfo.shards`). Validation, vocabularies and statistics are computed once over
all rows before the split is cut, exactly as for one file.

Worker w of W reads shards w, w + W, w + 2W ... (`assign`); a split written as one file is one
shard. `read_blocks` reads a shard a block of rows at a time, for work whose memory must not
grow with the data (evaluating the test split).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ml.data.errors import DataError, Problem
from ml.data.schema import STATISTICS_FILE, DatasetSchema, ShardInfo, SplitInfo, read_schema
from ml.data.tfdata import csv_options, table_arrays

__all__ = [
    "MAX_SHARDS",
    "assign",
    "read_blocks",
    "reshard",
    "shard_name",
    "shards_of",
    "write_shards",
]

#: Most shards a split may be written as (a name has five digits).
MAX_SHARDS = 4096
#: Bytes pyarrow reads per block in `read_blocks` (about 10k rows of 100 bytes).
BLOCK_BYTES = 1 << 20


def shard_name(split: str, index: int, count: int) -> str:
    """The file name of shard `index` of `count` of a split: `train-00002-of-00004.csv`."""
    return f"{split}-{index:05d}-of-{count:05d}.csv"


def check_shards(source: str, rows: dict[str, int], count: int) -> None:
    """Raise one DataError naming each split with fewer rows than `count` shards.

    A worker whose shard is empty would have nothing to feed its steps. One shard is the
    one-file layout of before, where an empty split (`fractions` with a 0) stays allowed.
    """
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"shards must be from 1 to {MAX_SHARDS}, got {count}")
    problems = [
        Problem(
            f"split {split!r} has {n} rows, fewer than the {count} shards asked for: "
            "every shard needs at least one row (use fewer shards)"
        )
        for split, n in rows.items()
        if count > 1 and n < count
    ]
    if problems:
        raise DataError(source, problems)


def write_shards(
    table: pa.Table,
    split: str,
    count: int,
    directory: Path,
    write: Callable[[pa.Table, Path], None],
) -> SplitInfo:
    """Deal the rows of `table` into `count` shard files in `directory`, with `write`.

    Returns:
        The split's entry of schema.json, listing its shards.

    """
    shards = []
    for index in range(count):
        name = shard_name(split, index, count)
        part = table.take(pa.array(np.arange(index, table.num_rows, count)))
        write(part, directory / name)
        shards.append(ShardInfo(file=name, rows=part.num_rows))
    pattern = f"{split}-*-of-{count:05d}.csv"
    return SplitInfo(file=pattern, rows=table.num_rows, shards=tuple(shards))


def shards_of(schema: DatasetSchema, split: str) -> tuple[ShardInfo, ...]:
    """The shard files of a split; a split written as one file is one shard."""
    if split not in schema.splits:
        raise ValueError(f"unknown split {split!r}; the dataset has {sorted(schema.splits)}")
    info = schema.splits[split]
    return info.shards or (ShardInfo(file=info.file, rows=info.rows),)


def assign(shards: tuple[ShardInfo, ...], workers: int, index: int) -> tuple[ShardInfo, ...]:
    """The shards worker `index` of `workers` reads: `index`, `index + workers`, ...

    Raises:
        ValueError: fewer shards than workers (a worker would have none).

    """
    if not 0 <= index < workers:
        raise ValueError(f"worker index {index} is not in 0..{workers - 1}")
    if len(shards) < workers:
        raise ValueError(
            f"the split has {len(shards)} shard(s), fewer than the {workers} workers: "
            f"build the dataset with `kfstack data build --shards {workers}` (or a multiple)"
        )
    return shards[index::workers]


def read_blocks(
    path: Path, schema: DatasetSchema, *, block_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """Read a written split or shard a block of rows at a time: (features by key, label)."""
    parse, convert = csv_options(schema)
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=block_bytes),
        parse_options=parse,
        convert_options=convert,
    )
    for batch in reader:
        if batch.num_rows:
            yield table_arrays(batch, schema)


def reshard(dataset_dir: Path, count: int, out: Path) -> DatasetSchema:
    """Write a built dataset again as `count` shards per split into `out`, a block at a time.

    The rows are dealt as `data build --shards` deals them (row i to shard i mod count), read
    and written as text, so the shards hold exactly the split's cells; schema.json lists
    them, statistics.json is copied. Memory holds one block, never a split.

    Returns:
        The schema written to `out`.

    """
    schema = read_schema(dataset_dir)
    check_shards(str(dataset_dir), {name: info.rows for name, info in schema.splits.items()}, count)
    out.mkdir(parents=True, exist_ok=True)
    splits = {}
    for split in schema.splits:
        names = [shard_name(split, i, count) for i in range(count)]
        counts = _deal(dataset_dir, schema, split, [out / name for name in names])
        shards = tuple(ShardInfo(file=n, rows=r) for n, r in zip(names, counts, strict=True))
        pattern = f"{split}-*-of-{count:05d}.csv"
        splits[split] = SplitInfo(file=pattern, rows=sum(counts), shards=shards)
    sharded = schema.model_copy(update={"splits": splits})
    sharded.write(out)
    (out / STATISTICS_FILE).write_bytes((dataset_dir / STATISTICS_FILE).read_bytes())
    return sharded


def _deal(dataset_dir: Path, schema: DatasetSchema, split: str, paths: list[Path]) -> list[int]:
    """Deal the rows of one split (every shard of it, in order) into `paths`."""
    text = {key: pa.string() for key in schema.columns}
    convert = pacsv.ConvertOptions(column_types=text, strings_can_be_null=False)
    parse = pacsv.ParseOptions(delimiter=schema.delimiter)
    options = pacsv.WriteOptions(delimiter=schema.delimiter)
    header = pa.schema([(key, pa.string()) for key in schema.columns])
    writers = [pacsv.CSVWriter(path, header, write_options=options) for path in paths]
    counts, seen = [0] * len(paths), 0
    try:
        for shard in shards_of(schema, split):
            reader = pacsv.open_csv(
                dataset_dir / shard.file,
                read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
                parse_options=parse,
                convert_options=convert,
            )
            for batch in reader:
                rows = batch.select(list(schema.columns))
                where = (seen + np.arange(rows.num_rows)) % len(paths)
                for index, writer in enumerate(writers):
                    part = rows.filter(pa.array(where == index))
                    writer.write_batch(part)
                    counts[index] += part.num_rows
                seen += rows.num_rows
    finally:
        for writer in writers:
            writer.close()
    return counts
