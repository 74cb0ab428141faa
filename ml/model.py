"""A Keras model with its preprocessing inside: train, evaluate, export for TF Serving / KServe.

The model takes the raw columns by sanitized key (`schema.json`), fills missing values the way
`build_dataset` did (NaN or an empty / NA cell -> the train split's fill value), normalizes
numeric columns and looks up categorical ones (unknown values -> one OOV slot), all with
values from the train split's statistics. `train` exports it with `model.export(root/N)`:
the TF Serving layout KServe's tensorflow runtime loads, signature `serving_default` taking
the raw named columns. `assets.extra/` next to it holds schema.json, statistics.json and
metrics.json (TF Serving ignores that directory).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.data import load_split, read_schema, read_split, read_statistics
from ml.metrics import classification_metrics, regression_metrics
from ml.schema import NULL_VALUES, SCHEMA_FILE, STATISTICS_FILE, DatasetSchema

if TYPE_CHECKING:
    import keras

EXTRA = "assets.extra"
METRICS_FILE = "metrics.json"
#: Categorical columns with a larger vocabulary get an embedding instead of a one-hot.
ONE_HOT_LIMIT = 64

__all__ = [
    "TrainConfig",
    "TrainResult",
    "build_model",
    "evaluate",
    "predict_columns",
    "predict_rows",
    "train",
]


@dataclass(frozen=True)
class TrainConfig:
    """How to train.

    Attributes:
        epochs: Maximum epochs (early stopping may end sooner).
        batch_size: Rows per batch.
        learning_rate: Adam learning rate.
        patience: Epochs without a better validation loss before stopping.
        hidden_units: Units of each hidden Dense layer.
        seed: Seed of weights, shuffles and dropout.
        dropout: Dropout rate after each hidden layer.

    """

    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    patience: int = 3
    hidden_units: tuple[int, ...] = (64, 32)
    seed: int = 0
    dropout: float = 0.0


@dataclass(frozen=True)
class TrainResult:
    """What `train` produced.

    Attributes:
        export_dir: The SavedModel directory `<out_root>/<version>`.
        version: The integer version.
        metrics: Test-split metrics of the exported model.
        history: Keras history (loss and metrics per epoch).
        model: The trained Keras model (in this process only).

    """

    export_dir: Path
    version: int
    metrics: dict[str, float]
    history: dict[str, list[float]]
    model: Any = field(default=None, repr=False, compare=False)


def _layers() -> tuple[type, type]:
    """The two custom layers, defined on first use so importing this module stays light."""
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="kfstack")
    class FillNumeric(keras.layers.Layer):
        """Stack numeric columns into (rows, columns) and replace NaN with each fill value."""

        def __init__(self, fills: list[float], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.fills = list(fills)

        def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
            x = tf.stack([tf.cast(c, tf.float32) for c in columns], axis=1)
            return tf.where(tf.math.is_nan(x), tf.constant([self.fills], tf.float32), x)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "fills": self.fills}

    @keras.saving.register_keras_serializable(package="kfstack")
    class FillCategorical(keras.layers.Layer):
        """Replace empty / NA cells (as the CSV reader reads them) with the missing token."""

        def __init__(self, token: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.token = token

        def call(self, x: tf.Tensor) -> tf.Tensor:
            missing = tf.reduce_any(tf.equal(x[:, None], tf.constant([NULL_VALUES])), axis=1)
            return tf.where(missing, self.token, x)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "token": self.token}

    return FillNumeric, FillCategorical


def build_model(
    schema: DatasetSchema, statistics: dict[str, Any], config: TrainConfig
) -> keras.Model:
    """Build and compile the model for `schema`, preprocessing from the train statistics."""
    import keras

    fill_numeric, fill_categorical = _layers()
    inputs = {
        c.key: keras.Input(
            shape=(), name=c.key, dtype="float32" if c.kind == "numeric" else "string"
        )
        for c in schema.features
    }
    columns = statistics["columns"]
    parts = []
    if schema.numeric:
        keys = [c.key for c in schema.numeric]
        x = fill_numeric([float(c.fill) for c in schema.numeric], name="fill_numeric")(
            [inputs[k] for k in keys]
        )
        mean = [columns[k]["mean"] or 0.0 for k in keys]
        variance = [max((columns[k]["std"] or 0.0) ** 2, 1e-12) for k in keys]
        parts.append(keras.layers.Normalization(mean=mean, variance=variance, name="normalize")(x))
    for c in schema.categorical:
        x = fill_categorical(schema.missing_token, name=f"fill_{c.key}")(inputs[c.key])
        parts.append(_encode(x, list(columns[c.key]["vocabulary"]), c.key))
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features")(parts)
    for i, units in enumerate(config.hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden_{i}")(x)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, seed=config.seed)(x)
    model = keras.Model(inputs=inputs, outputs=_head(x, schema, statistics), name="kfstack")
    loss = "mse" if schema.label.task == "regression" else "sparse_categorical_crossentropy"
    metrics = ["mae"] if schema.label.task == "regression" else ["accuracy"]
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss=loss, metrics=metrics)
    return model


def _encode(x: Any, vocabulary: list[str], key: str) -> Any:
    import keras

    if len(vocabulary) <= ONE_HOT_LIMIT:
        lookup = keras.layers.StringLookup(
            vocabulary=vocabulary, output_mode="one_hot", name=f"lookup_{key}"
        )
        return lookup(x)
    index = keras.layers.StringLookup(vocabulary=vocabulary, name=f"lookup_{key}")(x)
    dim = min(16, round(len(vocabulary) ** 0.25 * 4))
    return keras.layers.Embedding(len(vocabulary) + 1, dim, name=f"embed_{key}")(index)


def _head(x: Any, schema: DatasetSchema, statistics: dict[str, Any]) -> Any:
    import keras

    if schema.label.classes is not None:
        classes = len(schema.label.classes)
        return keras.layers.Dense(classes, activation="softmax", name="probabilities")(x)
    train = statistics["label"]["train"]
    scale = train["std"] or 1.0
    x = keras.layers.Dense(1, name="standardized")(x)
    x = keras.layers.Rescaling(scale=scale, offset=train["mean"] or 0.0, name="prediction")(x)
    return keras.ops.squeeze(x, axis=-1)


def next_version(out_root: Path) -> int:
    """Return 1 + the largest integer version directory under `out_root` (1 if none)."""
    if not out_root.is_dir():
        return 1
    versions = [int(p.name) for p in out_root.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def _export_dir(out_root: Path, version: int | None) -> tuple[Path, int]:
    version = next_version(out_root) if version is None else version
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    export_dir = out_root / str(version)
    if export_dir.exists():
        raise FileExistsError(
            f"{export_dir} exists: version {version} is never overwritten; "
            f"use version {next_version(out_root)} or leave it out"
        )
    return export_dir, version


def train(
    dataset_dir: Path,
    out_root: Path,
    *,
    version: int | None = None,
    config: TrainConfig = TrainConfig(),
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train on a built dataset, export `<out_root>/<version>` and evaluate it on the test split.

    Args:
        dataset_dir: A directory written by `ml.data.build_dataset`.
        out_root: Where versions are exported (`storageUri` of the InferenceService).
        version: The integer version; None takes the next one after the existing ones.
        config: Hyperparameters and seed.
        on_epoch: Called after each epoch with its number (1-based) and logs (for progress).

    Raises:
        FileExistsError: the version exists already (versions are never overwritten).

    """
    import keras

    dataset_dir, out_root = Path(dataset_dir), Path(out_root)
    schema, statistics = read_schema(dataset_dir), read_statistics(dataset_dir)
    export_dir, version = _export_dir(out_root, version)
    keras.utils.set_random_seed(config.seed)
    model = build_model(schema, statistics, config)
    size, seed = config.batch_size, config.seed
    train_ds = load_split(dataset_dir, "train", batch_size=size, shuffle=True, seed=seed)
    val_ds = None
    if schema.splits["validation"].rows:
        val_ds = load_split(dataset_dir, "validation", batch_size=size, shuffle=False, seed=seed)
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss" if val_ds is not None else "loss",
            patience=config.patience,
            restore_best_weights=True,
        )
    ]
    if on_epoch is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, dict(logs or {}))
            )
        )
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles rows itself, every epoch
        verbose=0,
    )
    _export_dir(out_root, version)  # still free after training?
    model.export(str(export_dir), format="tf_saved_model", verbose=False)
    metrics = evaluate(export_dir, dataset_dir)
    _write_extra(export_dir, dataset_dir, metrics, version)
    return TrainResult(
        export_dir=export_dir,
        version=version,
        metrics=metrics,
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        model=model,
    )


def _write_extra(
    export_dir: Path, dataset_dir: Path, metrics: dict[str, float], version: int
) -> None:
    extra = export_dir / EXTRA
    extra.mkdir(exist_ok=True)
    for name in (SCHEMA_FILE, STATISTICS_FILE):
        shutil.copyfile(dataset_dir / name, extra / name)
    record = {"version": version, "split": "test", "metrics": metrics}
    (extra / METRICS_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _serving(export_dir: Path) -> Any:
    import tensorflow as tf

    return tf.saved_model.load(str(export_dir)).signatures["serving_default"]


def _predict(signature: Any, features: dict[str, np.ndarray], batch: int = 8192) -> np.ndarray:
    import tensorflow as tf

    rows = len(next(iter(features.values())))
    outputs = []
    for start in range(0, rows, batch):
        chunk = {k: tf.constant(v[start : start + batch]) for k, v in features.items()}
        outputs.append(next(iter(signature(**chunk).values())).numpy())
    return np.concatenate(outputs) if outputs else np.empty((0,))


def predict_columns(export_dir: Path, features: dict[str, np.ndarray]) -> np.ndarray:
    """Call an exported model's `serving_default` signature on raw columns, in batches.

    Returns:
        Class probabilities (rows x classes) for classification, values for regression.

    """
    return _predict(_serving(Path(export_dir)), features)


def evaluate(export_dir: Path, dataset_dir: Path, *, split: str = "test") -> dict[str, float]:
    """Evaluate an exported model on a split of a built dataset.

    Returns:
        accuracy, auc and loss (cross-entropy) for classification; mae, rmse and loss (mean
        squared error) for regression; plus the number of rows.

    """
    schema = read_schema(dataset_dir)
    features, label = read_split(dataset_dir, split)
    output = predict_columns(export_dir, features)
    if schema.label.classes is None:
        return regression_metrics(label, output)
    return classification_metrics(label, output)


def predict_rows(export_dir: Path, rows: list[dict[str, Any]]) -> list[Any]:
    """Predict raw rows with an exported model, as a client of the serving signature would.

    Rows are keyed by header name or by key; a missing key or None is a missing value.

    Returns:
        Per row, {"label": class, "probabilities": {class: p}} for classification, or the
        predicted value for regression.

    """
    export_dir = Path(export_dir)
    schema = read_schema(export_dir / EXTRA)
    columns: dict[str, np.ndarray] = {}
    for c in schema.features:
        values = [_cell(row, c.name, c.key) for row in rows]
        if c.kind == "numeric":
            columns[c.key] = np.array(
                [np.nan if v is None else float(v) for v in values], np.float32
            )
        else:
            columns[c.key] = np.array(["" if v is None else str(v) for v in values], dtype=object)
    output = predict_columns(export_dir, columns)
    classes = schema.label.classes
    if classes is None:
        return [float(v) for v in output]
    return [
        {
            "label": classes[int(p.argmax())],
            "probabilities": dict(zip(classes, map(float, p), strict=True)),
        }
        for p in output
    ]


def _cell(row: dict[str, Any], name: str, key: str) -> Any:
    value = row.get(name, row.get(key))
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
