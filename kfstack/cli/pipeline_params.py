"""The training pipeline's arguments from the shared CLI options (`kfstack.cli.ml_options`).

`kfstack pipeline run-local` and any other command that starts the pipeline (e.g. on a
cluster) build its arguments here, so the dataset spec, the training settings and the gate
reach the pipeline the same way::

    arguments = pipeline_arguments(dataset_spec(args), train_config(args), gate_options(args))
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from kfstack.cli.frame import options
from ml.components.core.ingest import spec_parameter
from ml.data import DatasetSpec
from ml.model import TrainConfig

__all__ = ["Gate", "add_gate_options", "gate_options", "pipeline_arguments"]


@dataclass(frozen=True)
class Gate:
    """How the gate decides: metric, direction, threshold and margin over the baseline."""

    metric: str = "loss"
    direction: str = "auto"
    threshold: float | None = None
    min_gain: float = 0.0


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    """--metric, --direction, --threshold and --min-gain."""
    group = parser.add_argument_group("release gate")
    group.add_argument(
        "--metric", default="loss", help="metric the gate decides on (accuracy, auc, loss, rmse)"
    )
    group.add_argument(
        "--direction",
        choices=["auto", "maximize", "minimize"],
        default="auto",
        help="auto minimizes loss, mae, rmse and mse, maximizes the others",
    )
    group.add_argument("--threshold", type=float, help="bound the metric must pass (default: none)")
    group.add_argument(
        "--min-gain",
        type=float,
        default=0.0,
        help="margin by which the metric must beat the trivial baseline (majority class / mean)",
    )


def gate_options(args: argparse.Namespace) -> Gate:
    """The Gate the gate options describe."""
    return Gate(**options(args, "metric", "direction", "threshold", "min_gain"))


def pipeline_arguments(spec: DatasetSpec, config: TrainConfig, gate: Gate) -> dict[str, Any]:
    """The `training_pipeline` parameters for a dataset spec, training settings and gate.

    Settings left to the data (None) are passed as 0, the pipeline's "automatic".
    """
    return {
        "dataset_spec": spec_parameter(spec),
        "seed": config.seed,
        "epochs": config.epochs or 0,
        "batch_size": config.batch_size or 0,
        "learning_rate": config.learning_rate,
        "patience": config.patience or 0,
        "class_weight": config.class_weight,
        "metric": gate.metric,
        "direction": gate.direction,
        "threshold": "" if gate.threshold is None else repr(gate.threshold),
        "min_gain": gate.min_gain,
    }
