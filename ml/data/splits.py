"""Deterministic train/validation/test splits: seeded, stratified by class for classification.

Every split that has a share gets rows: each class keeps at least one row in train and, when
the validation / test share is not zero, at least one in each of those, even when rounding
its share would give none. A class (or a whole file) too small for that is an error raised
before anything is trained, naming the class.

Split by group (`group_split`, `kfstack data build --group COL`): rows with the same value of
a column (a person, a shop, a patient) all go to one split, so the test split measures the
model on groups it has never seen; the groups, not the rows, are shuffled and cut, so the
shares hold only as closely as the group sizes allow and classes are not stratified.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ml.data.errors import DataError, Problem
from ml.data.schema import SPLITS


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


def minimum_rows(fractions: tuple[float, float, float]) -> int:
    """Rows a class (or an unstratified file) needs: one per split with a share."""
    return sum(1 for f in fractions if f > 0)


def _cut(size: int, fractions: tuple[float, float, float]) -> tuple[int, int]:
    """Validation and test rows of a group of `size` rows: rounded, at least one each."""
    n_val = max(round(size * fractions[1]), 1 if fractions[1] > 0 else 0)
    n_test = max(round(size * fractions[2]), 1 if fractions[2] > 0 else 0)
    # rounding both up can leave train empty: give the row back from the larger one
    while size - n_val - n_test < 1 and (n_val > 1 or n_test > 1):
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n_val, n_test


def check_sizes(
    source: str,
    counts: dict[str | None, int],
    fractions: tuple[float, float, float],
) -> None:
    """Raise one DataError naming every group (class) too small to reach every split.

    Args:
        source: The file, for the message.
        counts: Class name (None: the whole file, unstratified) -> rows.
        fractions: Shares of train, validation and test.

    """
    need = minimum_rows(fractions)
    small = [(name, n) for name, n in counts.items() if n < need]
    if not small:
        return
    splits = ", ".join(s for s, f in zip(SPLITS, fractions, strict=True) if f > 0)
    problems = [
        Problem(
            f"too few rows for class {name!r}: {n} (need {need}: one each for {splits}); "
            "add rows, merge or drop the class"
            if name is not None
            else f"too few rows: {n} (need {need}: one each for {splits})"
        )
        for name, n in small
    ]
    raise DataError(source, problems)


def split_indices(
    n: int,
    fractions: tuple[float, float, float],
    *,
    seed: int,
    strata: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    source: str = "data",
) -> dict[str, np.ndarray]:
    """Assign rows 0..n-1 to the splits, the same way for the same seed.

    Each stratum (class) is shuffled with the seed and cut by `fractions` (validation and
    test rounded but at least one row each, train takes the rest), so every split keeps
    the class proportions and holds every class.

    Args:
        n: Number of rows.
        fractions: Shares of train, validation and test.
        seed: Seed of the shuffle.
        strata: Per-row group (e.g. class index) to stratify by; None for no stratification.
        names: Name of each stratum value (class names by index), for errors.
        source: The file, for errors.

    Returns:
        Split name -> sorted row indices (file order is kept inside a split).

    Raises:
        DataError: a class (or the file) has fewer rows than splits to fill.

    """
    fractions = check_fractions(fractions)
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = [np.arange(n)]
        check_sizes(source, {None: n}, fractions)
    else:
        values = np.unique(strata)
        groups = [np.flatnonzero(strata == value) for value in values]
        counts: dict[str | None, int] = {
            str(names[int(v)]) if names is not None else str(v): len(g)
            for v, g in zip(values, groups, strict=True)
        }
        check_sizes(source, counts, fractions)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for group in groups:
        rows = rng.permutation(group)
        n_val, n_test = _cut(len(rows), fractions)
        n_train = len(rows) - n_val - n_test
        parts["train"].append(rows[:n_train])
        parts["validation"].append(rows[n_train : n_train + n_val])
        parts["test"].append(rows[n_train + n_val :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def fold_indices(n: int, k: int, *, seed: int, strata: np.ndarray | None = None) -> np.ndarray:
    """Assign rows 0..n-1 to `k` folds (0..k-1), seeded and stratified by `strata`.

    Each stratum (class) is shuffled and dealt round the folds, continuing where the last
    one stopped, so the folds differ in size by at most one row and each holds about 1/k
    of every class (a class with fewer than k rows reaches fewer folds).

    Returns:
        The fold of each row.

    """
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    rng = np.random.default_rng(seed)
    groups = (
        [np.arange(n)]
        if strata is None
        else [np.flatnonzero(strata == v) for v in np.unique(strata)]
    )
    folds = np.empty(n, dtype=np.int64)
    dealt = 0
    for group in groups:
        folds[rng.permutation(group)] = (dealt + np.arange(len(group))) % k
        dealt += len(group)
    return folds


def group_split(
    groups: np.ndarray,
    fractions: tuple[float, float, float],
    *,
    seed: int,
    column: str,
    strata: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    source: str = "data",
) -> dict[str, np.ndarray]:
    """Assign rows to the splits by group: every row of a group goes to the same split.

    The distinct groups are shuffled with the seed and laid end to end; a group goes to the
    split its middle row falls in when the rows are cut by `fractions`. A split with a share
    that got no group takes the last group of the split holding the most. A missing group
    cell (None) is a group of its own row.

    Args:
        groups: The group of each row (text; None where missing).
        fractions: Shares of train, validation and test.
        seed: Seed of the shuffle of the groups.
        column: The group column's header name, for errors.
        strata: Class index of each row (classification), to check train holds every class.
        names: Class names by index, for errors.
        source: The file, for errors.

    Returns:
        Split name -> sorted row indices.

    Raises:
        DataError: fewer groups than splits with a share, or a class with no row in train.

    """
    fractions = check_fractions(fractions)
    codes = _group_codes(groups)
    count = _distinct(codes)
    need = minimum_rows(fractions)
    if count < need:
        raise DataError(
            source,
            [
                Problem(
                    f"{count} distinct value(s) of {column!r}: splitting by group needs at "
                    f"least {need}, one group for each split with a share"
                )
            ],
        )
    order = np.random.default_rng(seed).permutation(count)
    sizes = np.bincount(codes, minlength=count)[order]
    middles = (np.cumsum(sizes) - sizes / 2) / max(len(codes), 1)
    cuts = np.cumsum(fractions)[:-1]
    split_of = np.searchsorted(cuts, middles, side="right")  # 0 train, 1 validation, 2 test
    for index, share in enumerate(fractions):
        if share > 0 and not (split_of == index).any():
            # from the split holding the most groups (two or more: there are enough groups)
            donor = int(np.argmax(np.bincount(split_of, minlength=len(SPLITS))))
            split_of[np.flatnonzero(split_of == donor)[-1]] = index
    by_group = np.empty(count, dtype=np.int64)
    by_group[order] = split_of
    of_row = by_group[codes]
    parts = {name: np.flatnonzero(of_row == i) for i, name in enumerate(SPLITS)}
    if strata is not None:
        _check_train_classes(strata, parts["train"], names, column, source)
    return parts


def count_groups(groups: np.ndarray) -> int:
    """The groups among `groups`: distinct values, each missing cell (None) one of its own."""
    return _distinct(_group_codes(groups))


def _distinct(codes: np.ndarray) -> int:
    return int(codes.max()) + 1 if len(codes) else 0


def _group_codes(groups: np.ndarray) -> np.ndarray:
    """An integer per row, equal for equal groups; each missing cell a group of its own."""
    present = np.array([g is not None for g in groups], dtype=bool)
    codes = np.empty(len(groups), dtype=np.int64)
    _, inverse = np.unique(np.asarray(groups[present], dtype=str), return_inverse=True)
    codes[present] = inverse
    start = int(inverse.max()) + 1 if len(inverse) else 0
    codes[~present] = start + np.arange(int((~present).sum()))
    return codes


def _check_train_classes(
    strata: np.ndarray,
    train: np.ndarray,
    names: Sequence[str] | None,
    column: str,
    source: str,
) -> None:
    """Raise a DataError naming each class whose groups all fell outside train."""
    absent = sorted(set(np.unique(strata).tolist()) - set(np.unique(strata[train]).tolist()))
    if absent:
        shown = [str(names[int(v)]) if names is not None else str(v) for v in absent]
        raise DataError(
            source,
            [
                Problem(
                    f"no train row of class {name!r}: every group of {column!r} holding it "
                    "fell in validation or test; try another --seed, or add groups of the class"
                )
                for name in shown
            ],
        )
