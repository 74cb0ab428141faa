"""`kfstack data inspect|build` and `kfstack train`; `kfstack pipeline` when ml.pipelines has it.

Handlers import TensorFlow and pandas themselves, so `kfstack --help` stays fast. Bad input
(a DataError, a missing file, an existing version) prints one short message and exits 2.
The options shared with `pipeline run-local` are defined once in `kfstack.cli.ml_options`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kfstack.cli import pipeline as pipelines_cli
from kfstack.cli import release as releases_cli
from kfstack.cli import serve as servecheck_cli
from kfstack.cli.ml_options import (
    HelpFormatter,
    add_dataset_options,
    add_source_options,
    add_training_options,
    dataset_spec,
    train_config,
)
from kfstack.cli.output import (
    EpochProgress,
    console,
    error_text,
    metrics_line,
    quiet_tensorflow,
    short,
)

#: Exit status for bad input (file, CSV content, options).
BAD_INPUT = 2
#: Exit status when training itself failed (e.g. the loss diverged).
FAILED = 1

quiet_tensorflow()  # before any handler imports TensorFlow


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `data` and `train` commands (and `pipeline`, when kfstack.cli.pipeline exists)."""
    data = subparsers.add_parser("data", help="inspect a CSV, build a validated dataset")
    commands = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    inspect = commands.add_parser(
        "inspect",
        help="data-quality report of a CSV: kinds, missing values, columns to drop",
        formatter_class=HelpFormatter,
    )
    inspect.add_argument("path", type=Path, nargs="?", metavar="CSV", help="same as --csv")
    add_source_options(inspect, required=False)
    inspect.set_defaults(handler=_guard(_inspect))

    build = commands.add_parser(
        "build",
        help="validate and split a CSV into a dataset directory",
        formatter_class=HelpFormatter,
    )
    add_source_options(build)
    build.add_argument("--out", type=Path, required=True, help="dataset directory to write")
    add_dataset_options(build)
    build.set_defaults(handler=_guard(_build))

    train = subparsers.add_parser(
        "train", help="train, evaluate and export a model", formatter_class=HelpFormatter
    )
    train.add_argument("--data", type=Path, required=True, help="a built dataset directory")
    train.add_argument("--out", type=Path, required=True, help="export root (<root>/<version>)")
    train.add_argument("--version", type=int, help="integer version (default: next free one)")
    add_training_options(train)
    train.add_argument("--seed", type=int, default=0, help="seed of weights and shuffles")
    train.add_argument("--quiet", action="store_true", help="no progress display")
    train.set_defaults(handler=_guard(_train))

    # `kfstack pipeline ...` (compile, run-local, dag) lives with the pipelines.
    pipelines_cli.register(subparsers)
    releases_cli.register(subparsers)  # `kfstack release fetch | publish`
    servecheck_cli.register(subparsers)  # `kfstack serve check`


def _guard(handler: Any) -> Any:
    """Run `handler`; report bad input in one message (no traceback) and return 2."""

    def run(args: argparse.Namespace) -> int:
        from ml.data.errors import DataError
        from ml.model.network import TrainingError

        err_out = console(stderr=True)
        try:
            status: int = handler(args)
        except DataError as err:
            err_out.print(f"error: {err}")
            return BAD_INPUT
        except TrainingError as err:
            err_out.print(f"error: training failed: {err}")
            return FAILED
        except (FileNotFoundError, FileExistsError, IsADirectoryError, ValueError) as err:
            err_out.print(f"error: {error_text(err)}")
            return BAD_INPUT
        return status

    return run


def _inspect(args: argparse.Namespace) -> int:
    from ml.data.report import print_report

    path = args.csv or args.path
    if path is None:
        raise ValueError("give the CSV to inspect: kfstack data inspect --csv FILE")
    print_report(console(), path, delimiter=args.delimiter)
    return 0


def _build(args: argparse.Namespace) -> int:
    from ml.data.dataset import build_dataset

    out = console()
    spec = dataset_spec(args)
    with out.status(f"validating and splitting {args.csv} ..."):
        built = build_dataset(args.csv, spec, args.out, seed=args.seed)
    schema = built.schema
    out.print(f"dataset {built.directory}")
    classes = f", classes: {list(schema.label.classes)}" if schema.label.classes else ""
    out.print(f"  task: {schema.label.task}, label: {schema.label.name}{classes}")
    for c in schema.features:
        fill = short(c.fill) if not isinstance(c.fill, str) else repr(c.fill)
        out.print(f"  {c.kind:<11} {c.name!r} -> {c.key} (missing: {c.missing}, fill {fill})")
    out.print("  rows: " + ", ".join(f"{k} {v}" for k, v in built.rows.items()))
    dropped = ", ".join(f"{k}: {v}" for k, v in built.dropped.items() if v) or "none"
    filled = ", ".join(f"{k}: {v}" for k, v in built.filled.items() if v) or "none"
    out.print(f"  dropped rows: {dropped}; filled cells: {filled}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from ml.model.network import train

    out = console()
    config = train_config(args)
    progress = EpochProgress(out, quiet=args.quiet)
    out.print(f"training on {args.data} ...")
    with progress.live():
        result = train(args.data, args.out, version=args.version, config=config, on_epoch=progress)
    plan = result.plan
    if plan is not None:
        out.print(
            f"  {len(result.history.get('loss', []))} epochs of at most {plan.epochs}"
            + (f" ({plan.passes} passes over the rows each)" if plan.passes > 1 else "")
            + f", batch {plan.batch_size}, patience {plan.patience}; best weights kept"
        )
    out.print(f"exported version {result.version} to {result.export_dir}")
    out.print("  test: " + metrics_line(result.metrics))
    return 0
