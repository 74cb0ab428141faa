"""Free-text columns read as a bag of frequent words (ml.data.words)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.data import DatasetSpec, build_dataset
from ml.data.words import MAX_WORDS, frequent_words, words, words_layer
from ml.model.architecture import MIN_VALUE_ROWS
from ml.model.network import TrainConfig, train
from tests.ml.conftest import write_rows

MISSING = "[MISSING]"


def test_words_are_lower_cased_ascii_runs() -> None:
    assert words("Chevrolet Chevelle-Malibu 2.0") == ["chevrolet", "chevelle", "malibu", "2", "0"]
    assert words("ÄB c") == ["b", "c"]  # non-ASCII letters split words, as in the graph
    assert words("  ") == []


def test_a_column_of_mostly_rare_multi_word_values_reads_as_text() -> None:
    counts = {"ford pinto": 1, "ford torino": 1, "Ford galaxie": 1, "amc gremlin": 2, "x y": 1}
    assert frequent_words(counts | {MISSING: 9}, MISSING, MIN_VALUE_ROWS) == ["ford"]


@pytest.mark.parametrize(
    "counts",
    [
        {"red car": 8, "blue car": 1, "green car": 1},  # frequent values cover most rows
        {"a1": 1, "a2": 1, "a3": 1, "a4": 1},  # IDs: one word each
        {MISSING: 10},  # nothing present
    ],
)
def test_categorical_and_id_columns_get_no_words(counts: dict[str, int]) -> None:
    assert frequent_words(counts, MISSING, MIN_VALUE_ROWS) == []


def test_words_are_ranked_by_rows_and_capped() -> None:
    counts = {f"w{i} common w{i // 2}": 1 for i in range(4 * MAX_WORDS)}
    ranked = frequent_words(counts, MISSING, 2)
    assert ranked[0] == "common"
    assert len(ranked) == MAX_WORDS
    # w1..w511 are in three rows each (w1 common w0, w2 common w1, w3 common w1), w0 in two
    assert "w1" in ranked
    assert "w0" not in ranked


def test_the_layer_splits_words_like_python() -> None:
    import tensorflow as tf

    vocabulary = ["chevrolet", "320", "b", "malibu"]
    values = ["Chevrolet Chevelle-MALIBU", "buick skylark 320", "ÄB", "", "[MISSING]"]
    out = words_layer(vocabulary, "words")(tf.constant(values)).numpy()
    expected = [[float(w in words(v)) for w in vocabulary] for v in values]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.slow
def test_the_model_learns_the_label_from_a_word_of_rare_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    makes = {"acme": "yes", "zenith": "no", "orbit": "yes", "nova": "no"}
    rows = []
    for i in range(400):
        make = list(makes)[i % 4]
        rows.append([f"{make} model-{i}", round(float(rng.normal()), 3), makes[make]])
    csv = write_rows(tmp_path / "cars.csv", ["name", "noise", "label"], rows)
    build_dataset(csv, DatasetSpec(label="label", categorical=("name",)), tmp_path / "ds")
    result = train(tmp_path / "ds", tmp_path / "m", config=TrainConfig(epochs=20, seed=0))
    assert result.metrics["accuracy"] == 1.0  # every name is unseen; its make decides
