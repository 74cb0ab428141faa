"""The words of free-text columns, read by the model as a bag of frequent words.

A categorical column whose values are mostly rare (a car's model name, a product title)
gives the one-hot encoding little: a value seen in fewer than `ml.data.stats.MIN_VALUE_ROWS`
train rows shares the out-of-vocabulary slot. Its words often repeat where the whole values do not
("chevrolet chevelle malibu", "chevrolet impala": the make). For such a column the model
also reads a multi-hot vector of its frequent words: words are the runs of ASCII letters
and digits, lower-cased, and a word counts when at least as many train rows contain it
as a value needs (at most `MAX_WORDS`, the most frequent). Everything comes from the train
split's vocabulary counts (statistics.json); unknown words are ignored.
"""

from __future__ import annotations

import re
from typing import Any

#: At most this many words per column (the most frequent).
MAX_WORDS = 256
#: A column is read as text when its frequent values cover less than this share of its rows.
TEXT_COVERAGE = 0.5

_WORD = re.compile(r"[a-z0-9]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

__all__ = ["frequent_words", "words", "words_layer"]


def words(value: str) -> list[str]:
    """The words of a value: runs of ASCII letters and digits, lower-cased."""
    return _WORD.findall(value.translate(_ASCII_LOWER))


def frequent_words(counts: dict[str, int], missing_token: str, min_rows: int) -> list[str]:
    """The frequent words of a free-text column from its train vocabulary counts.

    Empty unless the column reads as text: values of several words, and its values seen in
    at least `min_rows` rows cover less than `TEXT_COVERAGE` of the present rows.

    Args:
        counts: Train rows per value (statistics.json `vocabulary`).
        missing_token: The token of missing cells (not text).
        min_rows: Train rows a value or word needs to count as frequent.

    Returns:
        Words in at least `min_rows` train rows, most frequent first (ties by word),
        at most `MAX_WORDS`.

    """
    present = {value: rows for value, rows in counts.items() if value != missing_token}
    total = sum(present.values())
    if not total or not any(len(words(value)) > 1 for value in present):
        return []
    frequent = sum(rows for rows in present.values() if rows >= min_rows)
    if frequent >= TEXT_COVERAGE * total:
        return []
    rows_with: dict[str, int] = {}
    for value, rows in present.items():
        for word in set(words(value)):
            rows_with[word] = rows_with.get(word, 0) + rows
    ranked = sorted(
        (word for word, rows in rows_with.items() if rows >= min_rows),
        key=lambda word: (-rows_with[word], word),
    )
    return ranked[:MAX_WORDS]


def words_layer(vocabulary: list[str], name: str) -> Any:
    """A Keras layer: strings (rows,) -> multi-hot of `vocabulary`'s words (rows, words)."""
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="kfstack")
    class Words(keras.layers.Layer):
        """Strings -> 1.0 per vocabulary word the string contains (`words` splits them)."""

        def __init__(self, vocabulary: list[str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.vocabulary = list(vocabulary)
            self.lookup = keras.layers.StringLookup(
                vocabulary=self.vocabulary, output_mode="multi_hot", num_oov_indices=1
            )

        def call(self, x: tf.Tensor) -> tf.Tensor:
            text = tf.strings.regex_replace(tf.strings.lower(x), "[^a-z0-9]+", " ")
            tokens = tf.strings.split(tf.strings.strip(text))
            return tf.cast(self.lookup(tokens)[:, 1:], tf.float32)  # no unknown-word slot

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "vocabulary": self.vocabulary}

    return Words(vocabulary, name=name)
