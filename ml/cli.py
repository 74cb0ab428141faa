"""`kfstack data inspect|build` and `kfstack train`; `kfstack pipeline` when ml.pipelines has it.

Handlers import TensorFlow and pandas themselves, so `kfstack --help` stays fast. Bad input
(a DataError, a missing file, an existing version) prints one short message and exits 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ml.pipelines import cli as pipelines_cli
from ml.releases import cli as releases_cli
from ml.servecheck import cli as servecheck_cli

#: Exit status for bad input (file, CSV content, options).
BAD_INPUT = 2

# markup off: data values such as "[MISSING]" must print as they are.
_out = Console(highlight=False, markup=False)
_err = Console(stderr=True, highlight=False, markup=False)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `data` and `train` commands (and `pipeline`, when ml.pipelines.cli exists)."""
    data = subparsers.add_parser("data", help="inspect a CSV, build a validated dataset")
    commands = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    inspect = commands.add_parser("inspect", help="profile a CSV: kinds, missing values")
    inspect.add_argument("csv", type=Path, metavar="CSV")
    inspect.add_argument("--delimiter", default=",")
    inspect.set_defaults(handler=_guard(_inspect))

    build = commands.add_parser("build", help="validate and split a CSV into a dataset directory")
    build.add_argument("--csv", type=Path, required=True)
    build.add_argument("--label", required=True, help="the label column")
    build.add_argument("--out", type=Path, required=True, help="dataset directory to write")
    build.add_argument("--numeric", nargs="+", default=[], metavar="COL")
    build.add_argument("--categorical", nargs="+", default=[], metavar="COL")
    build.add_argument("--ignore", nargs="+", default=[], metavar="COL")
    build.add_argument("--task", choices=["classification", "regression"])
    build.add_argument("--classes", nargs="+", metavar="CLASS")
    build.add_argument("--delimiter", default=",")
    build.add_argument("--seed", type=int, default=0)
    build.set_defaults(handler=_guard(_build))

    train = subparsers.add_parser("train", help="train, evaluate and export a model")
    train.add_argument("--data", type=Path, required=True, help="a built dataset directory")
    train.add_argument("--out", type=Path, required=True, help="export root (<root>/<version>)")
    train.add_argument("--version", type=int, help="integer version (default: next free one)")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--patience", type=int, default=3)
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=_guard(_train))

    # `kfstack pipeline ...` (compile, run-local, dag) lives with the pipelines.
    pipelines_cli.register(subparsers)
    releases_cli.register(subparsers)  # `kfstack release fetch | publish`
    servecheck_cli.register(subparsers)  # `kfstack serve check`


def _guard(handler: Any) -> Any:
    """Run `handler`; report bad input in one message (no traceback) and return 2."""

    def run(args: argparse.Namespace) -> int:
        from ml.errors import DataError

        try:
            status: int = handler(args)
        except DataError as err:
            _err.print(f"error: {err}", soft_wrap=True)
            return BAD_INPUT
        except (FileNotFoundError, FileExistsError, IsADirectoryError, ValueError) as err:
            _err.print(f"error: {_short(err)}", soft_wrap=True)
            return BAD_INPUT
        return status

    return run


def _short(err: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(err, ValidationError):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in err.errors())
    return str(err)


def _inspect(args: argparse.Namespace) -> int:
    from ml.data import inspect_csv

    profile = inspect_csv(args.csv, delimiter=args.delimiter)
    table = Table(title=f"{args.csv}: {profile.rows} rows")
    for title in ("column", "key", "kind", "missing", "distinct", "summary"):
        table.add_column(title)
    for c in profile.columns:
        summary = ", ".join(f"{k}={_fmt(v)}" for k, v in c.summary.items())
        if c.not_numeric:
            summary += f" ({c.not_numeric} cells not numbers)"
        table.add_row(c.name, c.key, c.kind, str(c.missing), str(c.distinct), summary)
    _out.print(table)
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)


def _build(args: argparse.Namespace) -> int:
    from ml.data import DatasetSpec, build_dataset

    spec = DatasetSpec(
        label=args.label,
        task=args.task,
        classes=tuple(args.classes) if args.classes else None,
        numeric=tuple(args.numeric),
        categorical=tuple(args.categorical),
        ignore=tuple(args.ignore),
        delimiter=args.delimiter,
    )
    with _out.status(f"validating and splitting {args.csv} ..."):
        built = build_dataset(args.csv, spec, args.out, seed=args.seed)
    schema = built.schema
    _out.print(f"dataset {built.directory}")
    _out.print(f"  task: {schema.label.task}, label: {schema.label.name}", end="")
    _out.print(f", classes: {list(schema.label.classes)}" if schema.label.classes else "")
    for c in schema.features:
        _out.print(f"  {c.kind:<11} {c.name!r} -> {c.key} (missing: {c.missing}, fill {c.fill!r})")
    _out.print("  rows: " + ", ".join(f"{k} {v}" for k, v in built.rows.items()))
    dropped = ", ".join(f"{k}: {v}" for k, v in built.dropped.items() if v) or "none"
    filled = ", ".join(f"{k}: {v}" for k, v in built.filled.items() if v) or "none"
    _out.print(f"  dropped rows: {dropped}; filled cells: {filled}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from ml.model import TrainConfig, train

    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
    )

    def on_epoch(epoch: int, logs: dict[str, float]) -> None:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "learning_rate")
        _out.print(f"  epoch {epoch}/{config.epochs}: {shown}")

    _out.print(f"training on {args.data} ...")
    result = train(args.data, args.out, version=args.version, config=config, on_epoch=on_epoch)
    _out.print(f"exported version {result.version} to {result.export_dir}")
    _out.print("  test: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
    return 0
