"""`kfstack data inspect|build` and `kfstack train`.

Bad input (a DataError, a missing file, an existing version) prints one short message and
exits 2; training that fails (the loss diverged) exits 1. The options shared with
`pipeline run-local` are defined once in `kfstack.cli.ml_options`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kfstack.cli import ml_options as opts
from kfstack.cli.frame import FAILED, Failure, Subparsers, add_command, command_group, guard
from kfstack.cli.output import EpochProgress, console, metrics_line, quiet_tensorflow, short
from kfstack.cli.release import add_store_args, profile_of, store_of

quiet_tensorflow()  # before any handler imports TensorFlow


def register(subparsers: Subparsers) -> None:
    """Add the `data` command group (`inspect`, `build`) and the `train` command."""
    commands = command_group(subparsers, "data", "inspect a CSV, build a validated dataset")
    inspect = add_command(
        commands, "inspect", "data-quality report of a CSV: kinds, missing values, columns to drop"
    )
    inspect.add_argument("path", type=Path, nargs="?", metavar="CSV", help="same as --csv")
    opts.add_source_options(inspect, required=False)
    inspect.add_argument(
        "--label",
        help="the label column: measure whether each doubtful column helps or leaks it",
    )
    inspect.set_defaults(handler=guard(_inspect))

    build = add_command(commands, "build", "validate and split a CSV into a dataset directory")
    opts.add_source_options(build)
    build.add_argument(
        "--out",
        required=True,
        metavar="DIR|URI",
        help="dataset directory to write, or s3://BUCKET/PREFIX of the profile's object store "
        "(built locally, then uploaded with the --profile's keys)",
    )
    build.add_argument(
        "--shards",
        type=opts.positive_int,
        default=1,
        help="write each split as N files, one or more per training worker (default: 1)",
    )
    opts.add_dataset_options(build)
    add_store_args(build)
    build.set_defaults(handler=guard(_build, _store_failures))

    train = add_command(subparsers, "train", "train, evaluate and export a model")
    train.add_argument(
        "--data",
        required=True,
        metavar="DIR|URI",
        help="a built dataset directory, or the s3:// URI `data build` uploaded it to "
        "(with --workers; read with the --profile's keys)",
    )
    train.add_argument("--out", type=Path, required=True, help="export root (<root>/<version>)")
    train.add_argument("--version", type=int, help="integer version (default: next free one)")
    opts.add_training_options(train)
    train.add_argument("--seed", type=int, default=0, help="seed of weights and shuffles")
    train.add_argument(
        "--workers",
        type=opts.positive_int,
        default=1,
        help="train with N local worker processes (MultiWorkerMirroredStrategy) on a dataset "
        "built with --shards N or more; default 1: one process (a sharded dataset trains "
        "with one worker)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress display")
    add_store_args(train)
    train.set_defaults(handler=guard(_train, _train_failures))


def _store_failures() -> Iterator[Failure]:
    from ml.model_release.store import StoreError

    yield Failure(StoreError, FAILED)


def _train_failures() -> Iterator[Failure]:
    from ml.model import TrainingError

    yield Failure(TrainingError, FAILED, prefix="training failed: ")
    yield from _store_failures()


def _inspect(args: argparse.Namespace) -> int:
    from ml.data import print_report

    path = args.csv or args.path
    if path is None:
        raise ValueError("give the CSV to inspect: kfstack data inspect --csv FILE")
    print_report(console(), path, delimiter=args.delimiter, label=args.label)
    return 0


def _build(args: argparse.Namespace) -> int:
    from ml.data import build_dataset
    from ml.workers.store import is_store_uri, upload_tree

    out = console()
    spec = opts.dataset_spec(args)
    remote = is_store_uri(args.out)
    with tempfile.TemporaryDirectory(prefix="kfstack-dataset-") as scratch:
        target = Path(scratch) if remote else Path(args.out)
        with out.status(f"validating and splitting {args.csv} ..."):
            built = build_dataset(args.csv, spec, target, seed=args.seed, shards=args.shards)
        if remote:
            with out.status(f"uploading to {args.out} ..."):
                keys = upload_tree(target, args.out, store_of(args, profile_of(args)))
    _print_built(out, built, args)
    if remote:
        out.print(f"  uploaded {len(keys)} files to {args.out}")
    return 0


def _print_built(out: Any, built: Any, args: argparse.Namespace) -> None:
    from ml.data.stats import seen_in_train_note

    schema = built.schema
    out.print(f"dataset {args.out}")
    classes = f", classes: {list(schema.label.classes)}" if schema.label.classes else ""
    out.print(f"  task: {schema.label.task}, label: {schema.label.name}{classes}")
    for c in schema.features:
        fill = short(c.fill) if not isinstance(c.fill, str) else repr(c.fill)
        read = _read_as(c, built.statistics["columns"].get(c.key, {}))
        out.print(f"  {c.kind:<11} {c.name!r} -> {c.key} (missing: {c.missing}, fill {fill}){read}")
    out.print("  rows: " + ", ".join(f"{k} {v}" for k, v in built.rows.items()))
    split_by = built.statistics.get("split_by")
    if split_by:
        groups = ", ".join(f"{k} {v}" for k, v in split_by["groups"].items())
        out.print(f"  split by {split_by['column']!r}, groups: {groups}")
    if args.shards > 1:
        out.print(f"  each split written as {args.shards} shards (train-00000-of-...csv)")
    dropped = ", ".join(f"{k}: {v}" for k, v in built.dropped.items() if v) or "none"
    filled = ", ".join(f"{k}: {v}" for k, v in built.filled.items() if v) or "none"
    out.print(f"  dropped rows: {dropped}; filled cells: {filled}")
    note = seen_in_train_note(built.statistics)
    if note:
        out.print(f"  note: {note}")


def _read_as(column: Any, statistics: dict[str, Any]) -> str:
    """How the model reads a column, where it is not plain (`ml.model.architecture`)."""
    if column.date is not None:
        return f", read as dates ({column.date})"
    if statistics.get("log"):
        return f", read on a log scale (skewness {statistics['log']['skew']:.1f})"
    return ""


def input_names(dataset: Path) -> str:
    """`'petal width (cm)' -> petal_width_cm, ...`: each feature's header and its input name."""
    from ml.data import read_schema

    return ", ".join(f"{c.name!r} -> {c.key}" for c in read_schema(dataset).features)


def _sharded(dataset: str) -> bool:
    from ml.data import read_schema
    from ml.workers.store import is_store_uri

    if is_store_uri(dataset):
        return True
    return any(split.shards for split in read_schema(Path(dataset)).splits.values())


def _run_training(args: argparse.Namespace, config: Any, progress: EpochProgress) -> Any:
    """One process (`ml.model.train`), or `--workers` processes over a sharded dataset."""
    from ml.model import train

    if args.workers == 1 and not _sharded(args.data):
        return train(
            Path(args.data), args.out, version=args.version, config=config, on_epoch=progress
        )
    from ml.workers import train_workers

    return train_workers(
        args.data,
        args.out,
        workers=args.workers,
        version=args.version,
        config=config,
        on_epoch=progress,
        store=store_of(args, profile_of(args)) if "://" in args.data else None,
    )


def _train(args: argparse.Namespace) -> int:
    from ml.model.export import EXTRA

    out = console()
    config = opts.train_config(args)
    progress = EpochProgress(out, quiet=args.quiet)
    out.print(f"training on {args.data} ...")
    with progress.live():
        result = _run_training(args, config, progress)
    plan = result.plan
    if plan is not None:
        out.print(
            f"  {len(result.history.get('loss', []))} epochs of at most {plan.epochs}"
            + (f" ({plan.passes} passes over the rows each)" if plan.passes > 1 else "")
            + f", batch {plan.batch_size}, patience {plan.patience}; best weights kept"
        )
    if plan is not None and result.epoch_limit_reached:
        best = result.best_epoch
        still = best is not None and best > plan.epochs - plan.patience
        out.print(
            f"  note: training reached its epoch limit ({plan.epochs}) before early stopping"
            + (f"; the best epoch was {best}" if best is not None else "")
            + (
                f" (still improving: --epochs {2 * plan.epochs} may do better)"
                if still
                else " (it had stopped improving)"
            )
        )
    out.print(f"exported version {result.version} to {result.export_dir}")
    out.print("  signature inputs (header -> name): " + input_names(result.export_dir / EXTRA))
    out.print("  test: " + metrics_line(result.metrics))
    return 0
