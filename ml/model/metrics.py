"""Evaluation metrics computed in numpy, the same for a Keras model and an exported one."""

from __future__ import annotations

import numpy as np

_EPS = 1e-7


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties averaged); NaN without both classes."""
    positive = positive.astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    _, first, counts = np.unique(score[order], return_index=True, return_counts=True)
    ranks = np.empty(len(score))
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(label: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, cross-entropy loss and AUC (binary, or macro one-vs-rest for multiclass).

    Args:
        label: Class index per row.
        proba: Class probabilities, shape (rows, classes).

    """
    label = label.astype(np.int64)
    picked = proba[np.arange(len(label)), label]
    classes = proba.shape[1]
    if classes == 2:
        auc = roc_auc(label == 1, proba[:, 1])
    else:
        aucs = [roc_auc(label == c, proba[:, c]) for c in range(classes)]
        auc = float(np.nanmean(aucs)) if not np.isnan(aucs).all() else float("nan")
    return {
        "accuracy": float((proba.argmax(axis=1) == label).mean()),
        "auc": auc,
        "loss": float(-np.log(np.clip(picked, _EPS, 1.0)).mean()),
        "rows": float(len(label)),
    }


def regression_metrics(label: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Mean absolute error, root mean squared error and the loss (mean squared error)."""
    error = prediction.reshape(-1).astype(np.float64) - label.astype(np.float64)
    mse = float((error**2).mean())
    return {
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt(mse)),
        "loss": mse,
        "rows": float(len(label)),
    }


def baseline_metrics(
    label: np.ndarray, *, priors: np.ndarray | None = None, mean: float | None = None
) -> dict[str, float]:
    """The metrics of the trivial model, which ignores the features.

    Classification: always the train split's class shares `priors` (accuracy of the
    majority class, loss of the priors, AUC 0.5). Regression: always the train `mean`.
    """
    if priors is not None:
        proba = np.tile(np.asarray(priors, dtype=np.float64), (len(label), 1))
        return classification_metrics(label, proba)
    return regression_metrics(label, np.full(len(label), 0.0 if mean is None else mean))
