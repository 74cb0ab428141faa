"""Deterministic train/validation/test splits: seeded, stratified by class for classification."""

from __future__ import annotations

import math

import numpy as np

from ml.schema import SPLITS


def check_fractions(fractions: tuple[float, float, float]) -> tuple[float, float, float]:
    """Return `fractions` if they are three non-negative shares summing to 1, train > 0.

    Raises:
        ValueError: otherwise, saying what was given.

    """
    if len(fractions) != len(SPLITS):
        raise ValueError(f"fractions must be (train, validation, test), got {fractions}")
    if min(fractions) < 0 or fractions[0] <= 0 or not math.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be >= 0 with train > 0 and sum to 1, got {fractions}")
    return (float(fractions[0]), float(fractions[1]), float(fractions[2]))


def split_indices(
    n: int,
    fractions: tuple[float, float, float],
    *,
    seed: int,
    strata: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Assign rows 0..n-1 to the splits, the same way for the same seed.

    Each stratum (class) is shuffled with the seed and cut by `fractions` (validation and
    test rounded, train takes the rest), so every split keeps the class proportions.

    Args:
        n: Number of rows.
        fractions: Shares of train, validation and test.
        seed: Seed of the shuffle.
        strata: Per-row group (e.g. class index) to stratify by; None for no stratification.

    Returns:
        Split name -> sorted row indices (file order is kept inside a split).

    """
    fractions = check_fractions(fractions)
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = [np.arange(n)]
    else:
        groups = [np.flatnonzero(strata == value) for value in np.unique(strata)]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for group in groups:
        rows = rng.permutation(group)
        n_val = round(len(rows) * fractions[1])
        n_test = round(len(rows) * fractions[2])
        n_train = max(len(rows) - n_val - n_test, 0)
        parts["train"].append(rows[:n_train])
        parts["validation"].append(rows[n_train : n_train + n_val])
        parts["test"].append(rows[n_train + n_val :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}
