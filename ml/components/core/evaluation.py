"""The evaluation step: a SavedModel on a split of a built dataset -> metrics.

The model is evaluated through its exported `serving_default` signature on raw columns, as
KServe will call it: scalar metrics (`ml.model.metrics`), and for a classifier a confusion matrix,
for a binary one a ROC curve.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Probability thresholds of the ROC curve (binary classifiers).
ROC_POINTS = 51


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate_split` found.

    Attributes:
        metrics: Scalar metrics (`ml.model.metrics`), including the number of rows.
        baseline: The same metrics of the trivial model (majority class / train mean).
        classes: Class names, in output order (empty for regression).
        confusion: Rows = true class, columns = predicted class (empty for regression).
        roc: `fpr`, `tpr` and `thresholds` lists for a binary classifier, else empty.

    """

    metrics: dict[str, float]
    baseline: dict[str, float] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)
    roc: dict[str, list[float]] = field(default_factory=dict)


def confusion_matrix(label: np.ndarray, predicted: np.ndarray, classes: int) -> list[list[int]]:
    """Count rows by (true class, predicted class)."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (label.astype(np.int64), predicted.astype(np.int64)), 1)
    return [[int(v) for v in row] for row in matrix]


def roc_curve(positive: np.ndarray, score: np.ndarray) -> dict[str, list[float]]:
    """Return the ROC curve at evenly spaced probability thresholds, from 1 down to 0."""
    positive = positive.astype(bool)
    thresholds = np.linspace(1.0, 0.0, ROC_POINTS)
    n_pos, n_neg = max(int(positive.sum()), 1), max(int((~positive).sum()), 1)
    above = score[None, :] >= thresholds[:, None]
    tpr = (above & positive[None, :]).sum(axis=1) / n_pos
    fpr = (above & ~positive[None, :]).sum(axis=1) / n_neg
    return {
        "fpr": [float(v) for v in fpr],
        "tpr": [float(v) for v in tpr],
        "thresholds": [float(v) for v in thresholds],
    }


def evaluate_split(export_dir: Path, dataset_dir: Path, split: str = "test") -> Evaluation:
    """Evaluate a SavedModel on a split of a built dataset.

    Raises:
        ValueError: an unknown split, or a split without rows.

    """
    from ml.data import read_schema, read_split, read_statistics
    from ml.model import (
        baseline_metrics,
        classification_metrics,
        predict_columns,
        regression_metrics,
    )

    schema = read_schema(dataset_dir)
    train = read_statistics(dataset_dir)["label"]["train"]
    features, label = read_split(dataset_dir, split)
    if len(label) == 0:
        raise ValueError(f"{dataset_dir}: split {split!r} has no rows to evaluate on")
    output = predict_columns(export_dir, features)
    classes = schema.label.classes
    if classes is None:
        baseline = baseline_metrics(label, mean=train["mean"])
        return Evaluation(metrics=regression_metrics(label, output), baseline=baseline)
    counts = np.array([train["distribution"][c] for c in classes], dtype=np.float64)
    evaluation = Evaluation(
        metrics=classification_metrics(label, output),
        baseline=baseline_metrics(label, priors=counts / counts.sum()),
        classes=list(classes),
        confusion=confusion_matrix(label, output.argmax(axis=1), len(classes)),
    )
    if len(classes) == 2:
        evaluation.roc.update(roc_curve(label == 1, output[:, 1]))
    return evaluation


def finite(metrics: dict[str, Any]) -> dict[str, float]:
    """Keep the metrics that are finite numbers (AUC is NaN on a split with one class)."""
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
