"""The model's custom preprocessing layers: missing cells filled, skewed columns logged."""

from __future__ import annotations

from typing import Any

from ml.data import NULL_VALUES

__all__ = ["fill_layers", "log_layer"]


def fill_layers() -> tuple[type, type]:
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


def log_layer() -> type:
    """The layer reading some of the stacked numeric columns on a log scale (`ml.data.stats`)."""
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="kfstack")
    class LogScale(keras.layers.Layer):
        """(rows, columns) -> log(max(x, floor)) where a column has a floor, else x."""

        def __init__(self, floors: list[float | None], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.floors = list(floors)

        def call(self, x: tf.Tensor) -> tf.Tensor:
            logged = tf.constant([[f is not None for f in self.floors]])
            floor = tf.constant([[1.0 if f is None else f for f in self.floors]], tf.float32)
            return tf.where(logged, tf.math.log(tf.maximum(x, floor)), x)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "floors": self.floors}

    return LogScale
