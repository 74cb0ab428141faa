"""A Keras model with its preprocessing inside: train, evaluate, export for TF Serving / KServe.

The model takes the raw columns by sanitized key (`schema.json`), fills missing values the way
`build_dataset` did (NaN or an empty / NA cell -> the train split's fill value), normalizes
numeric columns and looks up categorical ones (unknown values -> one OOV slot; ISO dates as
a number, `ml.data.dates`; the words of free-text columns, `ml.data.words`), all with values
from the train split's statistics. `train` exports it (`ml.model.serving.export`,
`ml.model.export.publish`):
the TF Serving layout KServe's tensorflow runtime loads, signature `serving_default` taking
the raw named columns, with schema.json, statistics.json and metrics.json in
`assets.extra/` (TF Serving ignores that directory).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.data import DatasetSchema, load_split, read_schema, read_split, read_statistics
from ml.model.architecture import build_model
from ml.model.export import new_version, publish
from ml.model.metrics import classification_metrics, regression_metrics
from ml.model.serving import export, predict_columns, predict_rows
from ml.model.training import Plan, TrainConfig, class_weights, plan

if TYPE_CHECKING:
    import keras

__all__ = [
    "Plan",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "evaluate",
    "predict_columns",
    "predict_rows",
    "train",
]


@dataclass(frozen=True)
class TrainResult:
    """What `train` produced.

    Attributes:
        export_dir: The SavedModel directory `<out_root>/<version>`.
        version: The integer version.
        metrics: Test-split metrics of the exported model.
        history: Keras history (loss and metrics per epoch).
        plan: The batch size, epochs and patience used.
        model: The trained Keras model (in this process only).

    """

    export_dir: Path
    version: int
    metrics: dict[str, float]
    history: dict[str, list[float]]
    plan: Plan | None = None
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def epoch_limit_reached(self) -> bool:
        """Training ran every epoch of its budget: early stopping did not end it."""
        return self.plan is not None and len(self.history.get("loss", [])) >= self.plan.epochs

    @property
    def best_epoch(self) -> int | None:
        """The epoch (1-based) of the lowest validation loss, whose weights were kept."""
        losses = self.history.get("val_loss") or []
        finite = [(v, i) for i, v in enumerate(losses) if math.isfinite(v)]
        return min(finite)[1] + 1 if finite else None


class TrainingError(RuntimeError):
    """Training produced no usable model (e.g. the loss diverged to NaN)."""


def train(
    dataset_dir: Path,
    out_root: Path,
    *,
    version: int | None = None,
    config: TrainConfig | None = None,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train on a built dataset, evaluate on its test split, then export `<out_root>/<version>`.

    The model is written to a hidden directory next to the version, evaluated there and
    renamed into place only when everything succeeded: a failed run leaves `out_root` as it
    was, never a version directory without its `assets.extra/`.

    Args:
        dataset_dir: A directory written by `ml.data.dataset.build_dataset`.
        out_root: Where versions are exported (`storageUri` of the InferenceService).
        version: The integer version; None takes the next one after the existing ones.
        config: Hyperparameters and seed (default TrainConfig()); None values are resolved
            from the data (`ml.model.training.plan`).
        on_epoch: Called after each epoch with its number (1-based), the epoch budget and
            the logs (for progress).

    Raises:
        FileExistsError: the version exists already (versions are never overwritten).
        TrainingError: the loss diverged, or the test metrics are not finite numbers.

    """
    import keras

    config = config or TrainConfig()
    dataset_dir, out_root = Path(dataset_dir), Path(out_root)
    schema, statistics = read_schema(dataset_dir), read_statistics(dataset_dir)
    directory, version = new_version(out_root, version)
    rows = {name: schema.splits[name].rows for name in ("train", "validation")}
    steps = plan(rows["train"], config, validation_rows=rows["validation"])
    keras.utils.set_random_seed(config.seed)
    if steps.members > 1:
        from ml.model.crossfit import crossfit

        model, history = crossfit(
            lambda name: build_model(schema, statistics, config, name),
            dataset_dir,
            schema=schema,
            config=config,
            steps=steps,
            weights=label_weights(schema, statistics, config),
            on_epoch=on_epoch,
        )
    else:
        model = build_model(schema, statistics, config)
        history = _fit(
            model,
            dataset_dir,
            described=(schema, statistics),
            config=config,
            steps=steps,
            on_epoch=on_epoch,
        )
    _check_history(history, config)
    metrics = publish(
        out_root,
        version,
        write=lambda directory: export(model, schema, directory),
        check=lambda directory: _checked(evaluate(directory, dataset_dir)),
        dataset_dir=dataset_dir,
    )
    return TrainResult(directory, version, metrics, history, plan=steps, model=model)


def _fit(
    model: keras.Model,
    dataset_dir: Path,
    *,
    described: tuple[DatasetSchema, dict[str, Any]],
    config: TrainConfig,
    steps: Plan,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None,
) -> dict[str, list[float]]:
    import keras

    schema, statistics = described
    size, seed = steps.batch_size, config.seed
    train_ds = load_split(
        dataset_dir, "train", batch_size=size, shuffle=True, seed=seed, passes=steps.passes
    )
    val_ds = None
    if schema.splits["validation"].rows:
        val_ds = load_split(dataset_dir, "validation", batch_size=size, shuffle=False, seed=seed)
    callbacks = stopping(validated=val_ds is not None, patience=steps.patience)
    if on_epoch is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, steps.epochs, dict(logs or {}))
            )
        )
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=steps.epochs,
        callbacks=callbacks,
        class_weight=label_weights(schema, statistics, config),
        shuffle=False,  # the dataset shuffles rows itself, every epoch
        verbose=0,
    )
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def stopping(*, validated: bool, patience: int) -> list[Any]:
    """Callbacks ending training on a NaN loss, or early on the validation (else training) loss.

    Early stopping keeps the weights of the best epoch.
    """
    import keras

    return [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.EarlyStopping(
            monitor="val_loss" if validated else "loss",
            patience=patience,
            restore_best_weights=True,
        ),
    ]


def label_weights(
    schema: DatasetSchema, statistics: dict[str, Any], config: TrainConfig
) -> dict[int, float] | None:
    """The loss weight of each class from the train split's counts (None: unweighted)."""
    if schema.label.classes is None:
        return None
    counts = statistics["label"]["train"]["distribution"]
    return class_weights([counts[c] for c in schema.label.classes], config.class_weight)


def _check_history(history: dict[str, list[float]], config: TrainConfig) -> None:
    if not all(_finite(v) for v in history.get("loss", [])):
        raise TrainingError(
            "the training loss diverged (NaN or infinite): lower the learning rate "
            f"(now {config.learning_rate}) or check the data for extreme values"
        )


def _finite(value: float) -> bool:
    return math.isfinite(value)


def _checked(metrics: dict[str, float]) -> dict[str, float]:
    bad = sorted(k for k in ("loss", "accuracy", "rmse") if not _finite(metrics.get(k, 0.0)))
    if bad:
        raise TrainingError(f"test metrics are not finite ({', '.join(bad)}): {metrics}")
    return metrics


def evaluate(export_dir: Path, dataset_dir: Path, *, split: str = "test") -> dict[str, float]:
    """Evaluate an exported model on a split of a built dataset.

    Returns:
        accuracy, auc and loss (cross-entropy) for classification; mae, rmse and loss (mean
        squared error) for regression; plus the number of rows.

    Raises:
        ValueError: the split has no rows.

    """
    schema = read_schema(dataset_dir)
    features, label = read_split(dataset_dir, split)
    if len(label) == 0:
        raise ValueError(f"{dataset_dir}: split {split!r} has no rows to evaluate on")
    output = predict_columns(export_dir, features)
    if schema.label.classes is None:
        return regression_metrics(label, output)
    return classification_metrics(label, output)
