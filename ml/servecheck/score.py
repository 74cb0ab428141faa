"""Predictions through the endpoint + held-out labels -> the metrics the pipeline computes.

The metrics are `ml.model.metrics` (as `ml.components.core.evaluation` uses them), so the numbers
are comparable with the release record's offline metrics. Class order: the model's own
`classes` output, else `--classes`, else a dataset's schema.json, else the order
`kfstack data build` infers (sorted, numerically when the labels are numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ml.components.core.evaluation import confusion_matrix, finite
from ml.model import classification_metrics, regression_metrics


class ScoreError(ValueError):
    """Labels and predictions that cannot be scored together (says what to pass)."""


@dataclass(frozen=True)
class Score:
    """Metrics of the accepted rows, and for a classifier its classes and confusion matrix."""

    metrics: dict[str, float]
    task: str
    classes: tuple[str, ...] = ()
    confusion: list[list[int]] = field(default_factory=list)


def default_classes(labels: Sequence[str]) -> tuple[str, ...]:
    """The classes `kfstack data build` infers from these labels (the model's output order)."""
    import pyarrow as pa

    from ml.data.columns import _infer_classes

    return _infer_classes(pa.chunked_array([pa.array(list(labels), pa.string())]))


def class_indices(labels: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Each label's index in `classes`.

    Raises:
        ScoreError: labels that are not classes (listed).

    """
    position = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in labels if v not in position})
    if unknown:
        raise ScoreError(
            f"held-out labels {unknown[:10]} are not among the model's classes {list(classes)}; "
            "pass --classes in the model's output order"
        )
    return np.array([position[v] for v in labels], dtype=np.int64)


def score(
    labels: np.ndarray, predictions: np.ndarray, classes: Sequence[str] | None = None
) -> Score:
    """Score predictions against labels.

    Args:
        labels: The label cells (text) of the scored rows.
        predictions: (rows, classes) probabilities, or (rows,) values for regression.
        classes: The model's classes in output order; None infers them from the labels.

    Raises:
        ScoreError: the class count differs from the model's outputs, unknown labels, or
            labels that are not numbers for a regression model.

    """
    if predictions.ndim == 1:
        try:
            values = np.asarray([float(v) for v in labels], dtype=np.float32)
        except ValueError:
            raise ScoreError(
                "the model returns one value per row (regression), but the labels are not "
                "numbers; is this the right model?"
            ) from None
        return Score(metrics=finite(regression_metrics(values, predictions)), task="regression")
    names = tuple(classes) if classes else default_classes([str(v) for v in labels])
    if len(names) != predictions.shape[1]:
        raise ScoreError(
            f"the model returns {predictions.shape[1]} class probabilities, but there are "
            f"{len(names)} classes {list(names)}; pass --classes (or --schema) in the model's "
            "output order"
        )
    index = class_indices(labels, names)
    return Score(
        metrics=finite(classification_metrics(index, predictions)),
        task="classification",
        classes=names,
        confusion=confusion_matrix(index, predictions.argmax(axis=1), len(names)),
    )
