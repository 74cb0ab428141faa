"""Measured advice for `kfstack data inspect --label`: does a column help, does it leak?

A column that looks useless (every value different, mostly rare text, mostly missing) may
still carry the label: a company name repeats, a date orders the rows. So `data inspect`
advises `--drop` only on a measurement: a quick model (multinomial logistic regression for a
class label, ridge regression for a number, in numpy) reads the columns as the model would
(numbers standardized, gaps filled; dates as year fractions; values with at least
`MIN_VALUE_ROWS` rows one-hot; the frequent words of free text; not the levels of numbers,
which the model reads only where rows repeat, `ml.data.stats.reads_levels`) and is scored
on held-out rows by `FOLDS`-fold cross-validation, with and without the column, on the same
folds (at most `SAMPLE_ROWS` rows). The rule:

- **does not help**: without it the held-out loss is no worse than with it, or better by
  less than one standard error of the paired per-row difference -> `--drop`, with both losses;
- **helps**: it lowers the held-out loss by more than that -> keep it, with both losses;
- **leaks the label**: on its own it predicts the label on held-out rows with accuracy >= 0.99
  (classification, where the majority class is below 0.9) -> drop it unless it is known
  when predicting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ml.data.csvread import as_text
from ml.data.dates import DateFormat, year_fraction
from ml.data.splits import fold_indices
from ml.data.stats import MIN_VALUE_ROWS
from ml.data.words import frequent_words, words

FOLDS = 3
SAMPLE_ROWS = 2000
LEAK_ACCURACY = 0.99
#: A numeric label with more values than this is a number to predict (as `data build` infers).
MAX_CLASSES = 20
_STEPS = 200
_EPS = 1e-9

__all__ = ["Measured", "measure_columns"]


@dataclass(frozen=True)
class Measured:
    """The quick check of one column.

    Attributes:
        column: Header name.
        loss_with: Held-out loss (cross-entropy, or squared error / variance) with it.
        loss_without: The same without it.
        error: Standard error of the paired per-row difference.
        alone: Held-out accuracy of the column on its own (classification), else None.
        majority: Share of the largest class (classification), else None.

    """

    column: str
    loss_with: float
    loss_without: float
    error: float
    alone: float | None = None
    majority: float | None = None

    @property
    def leaks(self) -> bool:
        """It predicts the label on its own, nearly perfectly, where the label is not trivial."""
        if self.alone is None or self.majority is None:
            return False
        return self.alone >= LEAK_ACCURACY and self.majority < 0.9

    @property
    def helps(self) -> bool:
        """It lowers the held-out loss by more than one standard error."""
        return self.loss_without - self.loss_with > self.error

    def reason(self) -> str:
        """One line: what was measured and what it means."""
        losses = f"held-out loss {self.loss_with:.4g} with it, {self.loss_without:.4g} without"
        if self.leaks:
            return (
                f"leaks the label? alone it predicts {self.alone:.1%} of held-out rows "
                f"(largest class {self.majority:.1%}); drop it unless it is known when predicting"
            )
        if self.helps:
            return f"helps the model ({losses}): keep it"
        return f"does not help the model ({losses})"


def measure_columns(
    table: pa.Table,
    label: str,
    columns: list[str],
    dates: dict[str, DateFormat],
    *,
    seed: int = 0,
) -> list[Measured]:
    """Measure each of `columns` of `table` against `label` (the module's rule).

    Args:
        table: The file's columns by header name (rows with a missing label are left out).
        label: The label column.
        columns: The columns to measure.
        dates: Date columns and their spelling.
        seed: Seed of the sample and the folds.

    """
    table = table.filter(table.column(label).is_valid())
    rng = np.random.default_rng(seed)
    if table.num_rows > SAMPLE_ROWS:
        table = table.take(pa.array(np.sort(rng.choice(table.num_rows, SAMPLE_ROWS, False))))
    target, classes = _target(table.column(label))
    features = [c for c in table.column_names if c != label]
    blocks = {c: _encode(table.column(c), dates.get(c)) for c in features}
    folds = fold_indices(len(target), FOLDS, seed=seed, strata=target if classes else None)
    every = _losses(_stack(blocks.values(), len(target)), target, classes, folds)[0]
    found = []
    for name in columns:
        rest = _stack((b for c, b in blocks.items() if c != name), len(target))
        without = _losses(rest, target, classes, folds)[0]
        difference = without - every
        error = float(difference.std(ddof=1) / math.sqrt(len(difference))) if len(target) > 1 else 0
        alone, majority = None, None
        if classes:
            alone = float(_losses(blocks[name], target, classes, folds)[1].mean())
            majority = float(np.bincount(target.astype(np.int64)).max() / len(target))
        found.append(
            Measured(name, float(every.mean()), float(without.mean()), error, alone, majority)
        )
    return found


def _target(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """The label as class indices (and the number of classes), or as numbers (0 classes)."""
    numeric = pa.types.is_floating(column.type) or pa.types.is_integer(column.type)
    if numeric and pc.count_distinct(column).as_py() > MAX_CLASSES:
        values = pc.cast(column, pa.float64()).to_numpy()
        return (values - values.mean()) / (values.std() or 1.0), 0
    text = as_text(column)
    classes = pc.unique(text).to_pylist()
    index = pc.index_in(text, value_set=pa.array(classes, pa.string()))
    return index.to_numpy().astype(np.float64), len(classes)


def _stack(blocks: object, rows: int) -> np.ndarray:
    parts = [b for b in blocks if b.shape[1]]  # type: ignore[attr-defined]
    return np.concatenate(parts, axis=1) if parts else np.zeros((rows, 0))


def _standard(values: np.ndarray) -> np.ndarray:
    """Gaps filled with the median, then standardized; a gap indicator when there are gaps."""
    gaps = np.isnan(values)
    if gaps.all():
        return np.zeros((len(values), 0))
    filled = np.where(gaps, np.nanmedian(values), values)
    out = [(filled - filled.mean()) / (filled.std() or 1.0)]
    if gaps.any():
        out.append(gaps.astype(np.float64))
    return np.stack(out, axis=1)


def _encode(column: pa.ChunkedArray, date: DateFormat | None) -> np.ndarray:
    """A column as the model reads it (the module docstring)."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return _standard(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
    if pa.types.is_null(column.type):
        return np.zeros((len(column), 0))
    text = [v if v is not None else "" for v in as_text(column).to_pylist()]
    if date is not None and date != "epoch-seconds":
        return _standard(np.array([_year(v, date) for v in text]))
    counts: dict[str, int] = {}
    for value in text:
        counts[value] = counts.get(value, 0) + 1
    frequent = [v for v, n in counts.items() if n >= MIN_VALUE_ROWS]
    values = _hot(text, frequent, lambda value: [value])
    bag = _hot(text, frequent_words(counts, "", MIN_VALUE_ROWS), words)
    return np.concatenate([values, bag], axis=1)


def _hot(text: list[str], vocabulary: list[str], split: Callable[[str], list[str]]) -> np.ndarray:
    """1.0 where a cell's parts (`split`) hold a vocabulary entry."""
    index = {v: i for i, v in enumerate(vocabulary)}
    out = np.zeros((len(text), len(index)))
    for row, value in enumerate(text):
        for part in split(value):
            if part in index:
                out[row, index[part]] = 1.0
    return out


def _year(value: str, date: DateFormat) -> float:
    try:
        return year_fraction(value, date)
    except ValueError:
        return float("nan")


def _losses(
    x: np.ndarray, target: np.ndarray, classes: int, folds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out loss and correctness (accuracy per row; 0 for regression) of every row."""
    loss, right = np.zeros(len(target)), np.zeros(len(target))
    x = np.concatenate([x, np.ones((len(target), 1))], axis=1)  # the intercept
    for fold in range(FOLDS):
        test = folds == fold
        if not test.any() or test.all():
            continue
        if classes:
            weights = _logistic(x[~test], target[~test].astype(np.int64), classes)
            proba = _softmax(x[test] @ weights)
            picked = proba[np.arange(test.sum()), target[test].astype(np.int64)]
            loss[test] = -np.log(np.clip(picked, _EPS, 1.0))
            right[test] = proba.argmax(axis=1) == target[test]
        else:
            a = x[~test]
            coef = np.linalg.solve(a.T @ a + np.eye(a.shape[1]), a.T @ target[~test])
            loss[test] = (x[test] @ coef - target[test]) ** 2
    return loss, right


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logistic(x: np.ndarray, y: np.ndarray, classes: int) -> np.ndarray:
    """Multinomial logistic regression, L2 of 1 per row set (C = 1), by Nesterov descent."""
    x = x.astype(np.float32)  # half the time of float64, plenty for a verdict
    onehot = np.eye(classes, dtype=np.float32)[y]
    weights = np.zeros((x.shape[1], classes), np.float32)
    velocity = np.zeros_like(weights)
    step = 4.0 / (np.square(x).sum(axis=1).mean() + 1.0)
    for _ in range(_STEPS):
        ahead = weights + 0.9 * velocity
        gradient = x.T @ (_softmax(x @ ahead) - onehot) / len(y) + ahead / len(y)
        velocity = 0.9 * velocity - step * gradient
        weights = weights + velocity
    return weights
