"""The model's custom preprocessing layers: missing numeric and categorical cells filled."""

from __future__ import annotations

from typing import Any

from ml.data import NULL_VALUES

__all__ = ["fill_layers"]


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
