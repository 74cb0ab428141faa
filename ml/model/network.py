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

from ml.data import (
    DatasetSchema,
    date_layer,
    date_summary,
    frequent_words,
    load_split,
    read_schema,
    read_split,
    read_statistics,
    words_layer,
)
from ml.model.export import new_version, publish
from ml.model.layers import fill_layers
from ml.model.metrics import classification_metrics, regression_metrics
from ml.model.serving import export, predict_columns, predict_rows
from ml.model.training import Plan, TrainConfig, class_weights, plan

if TYPE_CHECKING:
    import keras

#: Categorical columns with a larger vocabulary get an embedding instead of a one-hot.
ONE_HOT_LIMIT = 64
#: A categorical value gets its own one-hot slot / embedding row only when the train split
#: has at least this many rows of it; rarer values share the out-of-vocabulary slot. A slot
#: learnt from one or two rows only memorizes them (a car's name, a sample ID), and an
#: unseen value at test time would hit an untrained slot; pooling the rare values trains
#: the shared slot on exactly the kind of value the model meets after deployment.
MIN_VALUE_ROWS = 3
#: Every layer the model adds has a "-" in its name: keys (`ml.data.schema.KEY_PATTERN`) have
#: none, so a column can never be named like a layer (Keras refuses a name used twice).
#: Training steps run per call into the compiled graph: with batches of 16 rows Keras's
#: per-step Python work costs more than the step itself; callbacks still see every epoch.
STEPS_PER_EXECUTION = 32

__all__ = [
    "Plan",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "build_model",
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


def build_model(
    schema: DatasetSchema, statistics: dict[str, Any], config: TrainConfig, name: str = "kfstack"
) -> keras.Model:
    """Build and compile the model for `schema`, preprocessing from the train statistics."""
    import keras

    fill_numeric, fill_categorical = fill_layers()
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
        x = fill_numeric([float(c.fill) for c in schema.numeric], name="fill-numeric")(
            [inputs[k] for k in keys]
        )
        mean = [columns[k]["mean"] or 0.0 for k in keys]
        variance = [max((columns[k]["std"] or 0.0) ** 2, 1e-12) for k in keys]
        parts.append(
            keras.layers.Normalization(mean=mean, variance=variance, name="normalize-numeric")(x)
        )
    categorical = {c.key: frequent_values(columns[c.key]["vocabulary"]) for c in schema.categorical}
    texts = free_text_words(schema, statistics)
    if not parts and not any(categorical.values()):  # only rare values: keep them all
        categorical = {key: list(columns[key]["vocabulary"]) for key in categorical}
    spellings = {c.key: c.date for c in schema.categorical if c.date is not None}
    for key, vocabulary in categorical.items():
        spelling = spellings.get(key)
        summary = spelling and date_summary(
            columns[key]["vocabulary"], schema.missing_token, spelling
        )
        if spelling and summary:  # dates: one ordered number (ml.data.dates)
            layer = date_layer()(*summary, spelling=spelling, name=f"date-{key}")
            parts.append(layer(inputs[key]))
            continue
        text = texts.get(key, [])
        if vocabulary or text:  # else every value is rare: nothing the model could learn from
            x = fill_categorical(schema.missing_token, name=f"fill-{key}")(inputs[key])
        if vocabulary:
            parts.append(_encode(x, vocabulary, key))
        if text:  # free text: its frequent words too (ml.data.words)
            parts.append(words_layer(text, name=f"words-{key}")(x))
    features = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features-all")(parts)
    x = features
    penalty = _penalty(config, statistics)
    for i, units in enumerate(config.hidden_units):
        x = keras.layers.Dense(
            units, activation="relu", name=f"hidden-{i}", kernel_regularizer=penalty
        )(x)
        if config.dropout:
            x = keras.layers.Dropout(config.dropout, seed=config.seed, name=f"dropout-{i}")(x)
    outputs = _head(x, features, schema, statistics, penalty)
    model = keras.Model(inputs=inputs, outputs=outputs, name=name)
    loss = "mse" if schema.label.task == "regression" else "sparse_categorical_crossentropy"
    metrics = ["mae"] if schema.label.task == "regression" else ["accuracy"]
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=loss,
        metrics=metrics,
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def _penalty(config: TrainConfig, statistics: dict[str, Any]) -> Any:
    """The L2 penalty of the kernels: `config.l2` per row of train + validation.

    Scaled by the rows as LogisticRegression's C is (l2 = 1 / (2 C)): it keeps a few
    hundred rows from driving the weights of separable classes without bound, and
    vanishes on large files.
    """
    import keras

    if not config.l2:
        return None
    rows = statistics["rows"]
    return keras.regularizers.L2(config.l2 / max(rows["train"] + rows.get("validation", 0), 1))


def free_text_words(schema: DatasetSchema, statistics: dict[str, Any]) -> dict[str, list[str]]:
    """The frequent words the model reads of each free-text column, by key (`ml.data.words`).

    A date column is read as a date (`ml.data.dates`), never as words.
    """
    found = {}
    for column in schema.categorical:
        counts = statistics["columns"][column.key]["vocabulary"]
        if column.date is None:
            words = frequent_words(counts, schema.missing_token, MIN_VALUE_ROWS)
            if words:
                found[column.key] = words
    return found


def frequent_values(counts: dict[str, int]) -> list[str]:
    """The values of a categorical column with at least `MIN_VALUE_ROWS` train rows."""
    return [value for value, rows in counts.items() if rows >= MIN_VALUE_ROWS]


def _encode(x: Any, vocabulary: list[str], key: str) -> Any:
    import keras

    if len(vocabulary) <= ONE_HOT_LIMIT:
        lookup = keras.layers.StringLookup(
            vocabulary=vocabulary, output_mode="one_hot", name=f"lookup-{key}"
        )
        return lookup(x)
    index = keras.layers.StringLookup(vocabulary=vocabulary, name=f"lookup-{key}")(x)
    dim = min(16, round(len(vocabulary) ** 0.25 * 4))
    return keras.layers.Embedding(len(vocabulary) + 1, dim, name=f"embed-{key}")(index)


def _head(
    x: Any, features: Any, schema: DatasetSchema, statistics: dict[str, Any], penalty: Any
) -> Any:
    """The output layer: the hidden layers' output plus a linear term of the features.

    The linear ("wide") term makes a logistic / linear regression a special case of the
    model: where the relation is close to linear (many small tabular data sets) the
    model need not rebuild it through the ReLU layers from a few hundred rows.
    """
    import keras

    units = 1 if schema.label.classes is None else len(schema.label.classes)
    deep = keras.layers.Dense(units, name="out-deep", kernel_regularizer=penalty)(x)
    wide = keras.layers.Dense(units, use_bias=False, name="out-wide", kernel_regularizer=penalty)(
        features
    )
    x = keras.layers.Add(name="out-logits")([deep, wide])
    if schema.label.classes is not None:
        return keras.layers.Activation("softmax", name="out-probabilities")(x)
    train = statistics["label"]["train"]
    scale = train["std"] or 1.0
    x = keras.layers.Rescaling(scale=scale, offset=train["mean"] or 0.0, name="out-prediction")(x)
    return keras.layers.Reshape((), name="out-value")(x)  # (rows,); an op would be auto-named


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
            weights=_class_weights(schema, statistics, config),
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
    callbacks: list[Any] = [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.EarlyStopping(
            monitor="val_loss" if val_ds is not None else "loss",
            patience=steps.patience,
            restore_best_weights=True,
        ),
    ]
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
        class_weight=_class_weights(schema, statistics, config),
        shuffle=False,  # the dataset shuffles rows itself, every epoch
        verbose=0,
    )
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def _class_weights(
    schema: DatasetSchema, statistics: dict[str, Any], config: TrainConfig
) -> dict[int, float] | None:
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
