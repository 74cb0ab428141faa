"""How to train on a dataset of a given size: batch size, epoch budget, patience, class weights.

Pure functions of the row count and the label distribution, so that the defaults need no
tuning: a few hundred rows train with small batches for many epochs (enough gradient steps
for the loss to settle), a million rows with batches of 1024 for a few epochs. Early stopping
on the validation loss (best weights restored) ends training once it stops improving.

Small files (up to `CROSSFIT_ROWS` train + validation rows) train a cross-fitted ensemble of
`MEMBERS` networks instead of one (`ml.model.crossfit`): a validation split of 15-60 rows is too
noisy a judge of when to stop, and one network trained on a few hundred rows varies too much
with its initialization; large files train one network, as fast as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

ClassWeight = Literal["auto", "balanced", "none"]

#: Gradient steps the epoch budget aims for (early stopping usually ends sooner).
STEPS_BUDGET = 4000
#: A Keras epoch of a small file goes over it several times, to at least this many steps
#: (validation, callbacks and a new iterator cost the same for 8 steps as for 64).
MIN_EPOCH_STEPS = 64
MIN_BATCH, MAX_BATCH = 16, 1024
#: Batches per epoch the automatic batch size aims for, at least.
BATCHES_PER_EPOCH = 20
MIN_EPOCHS, MAX_EPOCHS = 10, 400
MIN_PATIENCE, MAX_PATIENCE = 3, 25
#: Files with at most this many train + validation rows train a cross-fitted ensemble (above
#: it five members cost more than 60 s of CPU time: bench_quality airports, 2929 rows, 43 classes).
CROSSFIT_ROWS = 2500
#: Members of that ensemble (and folds of the pooled train + validation rows).
MEMBERS = 5


@dataclass(frozen=True)
class TrainConfig:
    """How to train; None (the default) picks a value from the data (`plan`).

    Attributes:
        epochs: Maximum epochs (early stopping may end sooner); None: from the row count.
        batch_size: Rows per batch; None: from the row count (16 to 1024).
        learning_rate: Adam learning rate.
        patience: Epochs without a better validation loss before stopping; None: a tenth
            of the epochs (3 to 25).
        class_weight: "balanced" weighs each class to the same total weight; "auto" and
            "none" weigh none (`class_weights` says why).
        hidden_units: Units of each hidden Dense layer.
        seed: Seed of weights, shuffles and dropout.
        dropout: Dropout rate after each hidden layer.
        l2: L2 penalty of the kernels per training row (the penalty is l2 / rows, as
            LogisticRegression's C = 1 / (2 l2); 0.5 is its default C = 1); 0: none.
        members: Networks trained and averaged (each early-stopped on its own fold of the
            pooled train + validation rows); None: `MEMBERS` for files of up to
            `CROSSFIT_ROWS` rows, else 1 (one network, early-stopped on validation).

    """

    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float = 1e-3
    patience: int | None = None
    class_weight: ClassWeight = "auto"
    hidden_units: tuple[int, ...] = (64, 32)
    seed: int = 0
    dropout: float = 0.0
    members: int | None = None
    l2: float = 0.5

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be a positive integer, got {value}"
            for name, value in (
                ("epochs", self.epochs),
                ("batch_size", self.batch_size),
                ("patience", self.patience),
                ("members", self.members),
            )
            if value is not None and value < 1
        ]
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            problems.append(f"learning_rate must be a positive number, got {self.learning_rate}")
        if not (self.l2 >= 0 and math.isfinite(self.l2)):
            problems.append(f"l2 must be a number >= 0, got {self.l2}")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout must be in [0, 1), got {self.dropout}")
        if self.class_weight not in ("auto", "balanced", "none"):
            problems.append(f"class_weight must be auto, balanced or none: {self.class_weight!r}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class Plan:
    """The settings a training run uses, resolved for its data."""

    batch_size: int
    epochs: int
    patience: int
    steps_per_epoch: int
    passes: int = 1
    members: int = 1


def plan(rows: int, config: TrainConfig, *, validation_rows: int = 0) -> Plan:
    """Resolve batch size, epochs, patience and ensemble members for the rows of a dataset.

    Members: `config.members`, else `MEMBERS` when there are validation rows and at most
    `CROSSFIT_ROWS` rows in train + validation, else 1. An ensemble trains on the pooled
    train + validation rows, so the rows below are those of the pool. The batch is the
    power of two giving about `BATCHES_PER_EPOCH` batches (16 to 1024);
    an epoch makes enough passes over the rows for `MIN_EPOCH_STEPS` steps (unless epochs
    or the batch size are given); the epochs give about `STEPS_BUDGET` steps (10 to 400);
    patience is a tenth of that (3 to 25).
    """
    members = config.members
    if members is None:
        small = validation_rows > 0 and rows + validation_rows <= CROSSFIT_ROWS
        members = MEMBERS if small else 1
    if members > 1:
        rows += validation_rows
    rows = max(rows, 1)
    batch = config.batch_size
    if batch is None:
        target = rows / BATCHES_PER_EPOCH
        power = 2 ** math.floor(math.log2(target)) if target >= 1 else 1
        batch = int(min(max(power, MIN_BATCH), MAX_BATCH))
    passes = 1
    if config.epochs is None and config.batch_size is None:
        passes = max(1, math.ceil(MIN_EPOCH_STEPS / math.ceil(rows / batch)))
    steps = math.ceil(rows / batch) * passes
    epochs = config.epochs
    if epochs is None:
        epochs = min(max(math.ceil(STEPS_BUDGET / steps), MIN_EPOCHS), MAX_EPOCHS)
    patience = config.patience
    if patience is None:
        patience = min(max(epochs // 10, MIN_PATIENCE), MAX_PATIENCE)
    return Plan(batch, epochs, patience, steps_per_epoch=steps, passes=passes, members=members)


def class_weights(counts: list[int], how: ClassWeight = "auto") -> dict[int, float] | None:
    """Per-class loss weights from the train split's class counts, or None for none.

    "balanced" gives each class the same total weight (n / (k * count)); "auto" (the
    default) gives none: accuracy, the metric the gate and the baselines are judged by, is
    best served by the label's own class shares, and any weighting moves the decisions away
    from them (square-root weights, the former "auto" for labels with largest / smallest
    class >= 3, cost an imbalanced 5-class set about 2.4 points). Use "balanced" when the
    rare classes matter more than accuracy. Classes absent from train get weight 1.
    """
    present = [c for c in counts if c > 0]
    if how in ("none", "auto") or len(present) < 2:
        return None
    total, k = sum(present), len(present)
    return {i: total / (k * c) if c > 0 else 1.0 for i, c in enumerate(counts)}
