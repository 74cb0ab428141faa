"""The dataset and training options, defined once for `data`, `train` and `pipeline run-local`.

Other commands (e.g. `kfstack pipeline run`) add the same options with the same functions and
turn them into the same objects::

    add_source_options(parser); add_dataset_options(parser); add_training_options(parser)
    spec = dataset_spec(args)      # ml.data.schema.DatasetSpec
    config = train_config(args)    # ml.model.training.TrainConfig

Every option has help text with its default; "auto" defaults are resolved from the data.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ml.data import DatasetSpec
from ml.model import TrainConfig

__all__ = [
    "add_dataset_options",
    "add_source_options",
    "add_training_options",
    "dataset_spec",
    "positive_int",
    "train_config",
]


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1), got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _delimiter(text: str) -> str:
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"a delimiter is one character (or 'tab'), got {text!r}")
    return text


def add_source_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """--csv and --delimiter: the file to read and how."""
    parser.add_argument(
        "--csv", type=Path, required=required, metavar="FILE", help="the source CSV (UTF-8)"
    )
    parser.add_argument(
        "--delimiter",
        type=_delimiter,
        default=",",
        help="field separator: one character, or 'tab' (default: ',')",
    )


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """--label, column kinds, --drop, --group, --task, --classes and the split --seed."""
    group = parser.add_argument_group("dataset")
    group.add_argument("--label", required=True, help="the label column, as in the header")
    group.add_argument(
        "--numeric", nargs="+", default=[], metavar="COL", help="columns to read as numbers"
    )
    group.add_argument(
        "--categorical",
        nargs="+",
        default=[],
        metavar="COL",
        help="columns to read as categories, even if they look numeric",
    )
    group.add_argument(
        "--drop",
        "--ignore",
        dest="drop",
        action="extend",
        nargs="+",
        default=[],
        metavar="COL",
        help="columns not to use (`kfstack data inspect` suggests some)",
    )
    group.add_argument(
        "--group",
        metavar="COL",
        help="split by COL: rows with the same value (a person's id, a shop) all go to one "
        "split, so the test accuracy is on groups the model has not seen; COL is not a "
        "feature (default: rows are split one by one)",
    )
    group.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="default: inferred from the label (text or few integers: classification)",
    )
    group.add_argument(
        "--classes", nargs="+", metavar="CLASS", help="the allowed labels (default: as found)"
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the split and the training")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """--epochs, --batch-size, --learning-rate, --patience and --class-weight."""
    group = parser.add_argument_group("training")
    group.add_argument(
        "--epochs",
        type=positive_int,
        help="maximum epochs (default: auto, ~4000 steps, 10 to 400; early stopping ends sooner)",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        help="rows per batch (default: auto from the row count, 16 to 1024)",
    )
    group.add_argument(
        "--learning-rate", type=_positive_float, default=1e-3, help="Adam learning rate"
    )
    group.add_argument(
        "--patience",
        type=positive_int,
        help="epochs without a better validation loss before stopping (default: auto)",
    )
    group.add_argument(
        "--class-weight",
        choices=["auto", "balanced", "none"],
        default="auto",
        help="weigh classes: auto and none weigh none (best for accuracy), balanced gives "
        "each class the same total weight",
    )


def dataset_spec(args: argparse.Namespace) -> DatasetSpec:
    """The DatasetSpec the dataset options describe.

    Raises:
        pydantic.ValidationError: inconsistent options (a column given twice ...).

    """
    return DatasetSpec(
        label=args.label,
        task=args.task,
        classes=tuple(args.classes) if args.classes else None,
        numeric=tuple(args.numeric),
        categorical=tuple(args.categorical),
        ignore=tuple(dict.fromkeys(args.drop)),
        group=args.group,
        delimiter=args.delimiter,
    )


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig the training options describe (None: resolved from the data)."""
    values: dict[str, Any] = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
        "class_weight": args.class_weight,
        "seed": args.seed,
    }
    return TrainConfig(**values)
