"""The model's structure: raw named columns -> preprocessing -> hidden layers -> output.

Built from the dataset's schema and the train split's statistics (`build_model`); the
preprocessing (fills, normalization, lookups, dates, words) lives inside the model, so the
exported signature takes raw columns. Training it is `ml.model.network`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml.data import DatasetSchema, date_layer, date_summary, frequent_words, words_layer
from ml.data.stats import MIN_VALUE_ROWS, level_bounds, numeric_levels, reads_levels
from ml.model.layers import fill_layers, log_layer
from ml.model.training import TrainConfig

if TYPE_CHECKING:
    import keras

__all__ = ["MIN_VALUE_ROWS", "build_model", "free_text_words", "frequent_values"]

#: Categorical columns with a larger vocabulary get an embedding instead of a one-hot.
ONE_HOT_LIMIT = 64
#: Every layer the model adds has a "-" in its name: keys (`ml.data.schema.KEY_PATTERN`) have
#: none, so a column can never be named like a layer (Keras refuses a name used twice).
#: Training steps run per call into the compiled graph: with batches of 16 rows Keras's
#: per-step Python work costs more than the step itself; callbacks still see every epoch.
STEPS_PER_EXECUTION = 32


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
    parts = _numeric_parts(inputs, schema, statistics, fill_numeric)
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


def _numeric_parts(
    inputs: dict[str, Any], schema: DatasetSchema, statistics: dict[str, Any], fill: type
) -> list[Any]:
    """The numeric columns filled, skewed ones logged, normalized; where rows repeat, levels."""
    import keras

    if not schema.numeric:
        return []
    columns, rows = statistics["columns"], statistics["rows"]["train"]
    keys = [c.key for c in schema.numeric]
    fills = [float(c.fill) for c in schema.numeric]
    x = fill(fills, name="fill-numeric")([inputs[k] for k in keys])
    # right-skewed columns on a log scale (ml.data.stats.log_scale); statistics written
    # before `log` existed read every column linearly
    logs = [columns[k].get("log") for k in keys]
    if any(logs):
        x = log_layer()([log and log["floor"] for log in logs], name="log-numeric")(x)
    scales = [log or columns[k] for log, k in zip(logs, keys, strict=True)]
    mean = [s["mean"] or 0.0 for s in scales]
    variance = [max((s["std"] or 0.0) ** 2, 1e-12) for s in scales]
    parts = [keras.layers.Normalization(mean=mean, variance=variance, name="normalize-numeric")(x)]
    for column in schema.numeric if reads_levels(statistics) else ():
        levels = numeric_levels(columns[column.key], rows)
        if levels:
            filled = fill([float(column.fill)], name=f"fill-levels-{column.key}")(
                [inputs[column.key]]
            )
            parts.append(_levels(filled, levels, column.key))
    return parts


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


def _levels(x: Any, levels: list[float], key: str) -> Any:
    """One slot per level; a value between two levels takes the nearer one."""
    import keras

    bounds = level_bounds(levels)
    if len(levels) <= ONE_HOT_LIMIT:
        return keras.layers.Discretization(
            bin_boundaries=bounds, output_mode="one_hot", name=f"levels-{key}"
        )(x)
    index = keras.layers.Discretization(bin_boundaries=bounds, name=f"levels-{key}")(x)
    dim = _embedding_dim(len(levels))
    x = keras.layers.Embedding(len(levels), dim, name=f"embed-levels-{key}")(index)
    return keras.layers.Reshape((dim,), name=f"flat-levels-{key}")(x)


def _embedding_dim(size: int) -> int:
    """Embedding width for `size` values: grows as its fourth root, at most 16."""
    return min(16, round(size**0.25 * 4))


def _encode(x: Any, vocabulary: list[str], key: str) -> Any:
    import keras

    if len(vocabulary) <= ONE_HOT_LIMIT:
        lookup = keras.layers.StringLookup(
            vocabulary=vocabulary, output_mode="one_hot", name=f"lookup-{key}"
        )
        return lookup(x)
    index = keras.layers.StringLookup(vocabulary=vocabulary, name=f"lookup-{key}")(x)
    dim = _embedding_dim(len(vocabulary))
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
