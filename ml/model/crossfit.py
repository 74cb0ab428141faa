"""Cross-fitted ensembles for small files: k networks, each early-stopped on its own fold.

On a few hundred rows a validation split of 15-60 rows is a noisy judge of when to stop, and
one network's predictions vary with its initialization. For such files (`ml.model.training.plan`)
the train and validation splits are pooled and dealt into k stratified folds; k members are
trained at once, in one Keras model fed one stream of batches: member i learns from every
row outside fold i (its loss is masked on fold i) and is judged on fold i after each epoch.
Each member keeps the weights of its best epoch on its fold (early stopping with best
weights restored, one member at a time); training ends when every member has gone
`patience` epochs without improving. The exported model averages the members' outputs. The
test split is never seen; every train / validation row trains k-1 members and judges one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.data import DatasetSchema, fold_indices, in_memory_dataset, read_split
from ml.model.training import Plan, TrainConfig

if TYPE_CHECKING:
    import keras

_EPS = 1e-7

__all__ = ["average", "crossfit"]


def pooled(dataset_dir: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The train and validation splits as one set of arrays (features by key, label)."""
    parts = [read_split(dataset_dir, split) for split in ("train", "validation")]
    features = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
    return features, np.concatenate([p[1] for p in parts])


def crossfit(
    build: Callable[[str], keras.Model],
    dataset_dir: Path,
    *,
    schema: DatasetSchema,
    config: TrainConfig,
    steps: Plan,
    weights: dict[int, float] | None,
    on_epoch: Callable[[int, int, dict[str, float]], None] | None = None,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train `steps.members` models made by `build` on the folds; return their average.

    Args:
        build: Makes one member of a name (a model of the raw columns, `architecture.build_model`).
        dataset_dir: A built dataset; its train and validation splits are pooled.
        schema: Its schema.
        config: Learning rate and seed.
        steps: Batch size, epochs, passes, patience and the number of members.
        weights: Loss weight per class index (None: all 1).
        on_epoch: Called after each epoch with its number, the epoch budget and the logs.

    Returns:
        The averaging model and the history: `loss` (training, all members) and `val_loss`
        (mean over members of the loss on their own fold) per epoch.

    """
    import keras

    k = steps.members
    features, label = pooled(dataset_dir)
    classes = schema.label.classes
    folds = fold_indices(len(label), k, seed=config.seed, strata=label if classes else None)
    members = [build(f"member-{i}") for i in range(k)]
    trainer = _trainer(members, schema, config, weights)
    target = np.stack([label.astype(np.float32), folds.astype(np.float32)], axis=1)
    train_ds = in_memory_dataset(
        features,
        target,
        schema,
        batch_size=steps.batch_size,
        shuffle=True,
        seed=config.seed,
        passes=steps.passes,
    )
    judge = _Judge(
        members,
        features=features,
        label=label,
        folds=folds,
        classification=classes is not None,
        steps=steps,
    )
    callbacks: list[Any] = [keras.callbacks.TerminateOnNaN(), judge]
    if on_epoch is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, steps.epochs, dict(logs or {}))
            )
        )
    history = trainer.fit(
        train_ds, epochs=steps.epochs, callbacks=callbacks, shuffle=False, verbose=0
    )
    judge.restore()
    result = {key: [float(v) for v in values] for key, values in history.history.items()}
    result["val_loss"] = judge.history[: len(result.get("loss", []))]
    return average(members), result


def average(members: list[keras.Model]) -> keras.Model:
    """One model of the raw columns whose output is the mean of the members' outputs."""
    import keras

    if len(members) == 1:
        return members[0]
    inputs = {
        name: keras.Input(shape=(), name=name, dtype=tensor.dtype)
        for name, tensor in members[0].input.items()
    }
    outputs = keras.layers.Average(name="ensemble-mean")([m(inputs) for m in members])
    return keras.Model(inputs=inputs, outputs=outputs, name="kfstack")


def _trainer(
    members: list[keras.Model],
    schema: DatasetSchema,
    config: TrainConfig,
    weights: dict[int, float] | None,
) -> keras.Model:
    """The members side by side, compiled with a loss that hides each member's own fold."""
    import keras
    from keras import ops

    k, classes = len(members), schema.label.classes
    inputs = {
        name: keras.Input(shape=(), name=name, dtype=tensor.dtype)
        for name, tensor in members[0].input.items()
    }
    # (rows, k[, classes]), by named layers: an op's automatic name could be a column's key
    outputs = [m(inputs) for m in members]
    stacked = keras.layers.Concatenate(axis=1, name="members-stacked")(
        [
            keras.layers.Reshape((1, *out.shape[1:]), name=f"stack-{i}")(out)
            for i, out in enumerate(outputs)
        ]
    )
    model = keras.Model(inputs=inputs, outputs=stacked, name="kfstack-folds")
    class_weight, table = None, []
    if classes is not None:
        table = (
            [1.0] * len(classes) if weights is None else [weights[i] for i in range(len(classes))]
        )
        class_weight = ops.convert_to_tensor(np.asarray(table, np.float32))

    def loss(target: Any, output: Any) -> Any:
        fold = ops.cast(target[:, 1], "int32")
        outside = ops.cast(ops.not_equal(fold[:, None], ops.arange(k)[None, :]), "float32")
        if class_weight is None:
            per_member = ops.square(output - target[:, :1])
        else:
            index = ops.cast(target[:, 0], "int32")
            onehot = ops.one_hot(index, len(table))[:, None, :]
            picked = ops.sum(onehot * output, axis=-1)
            per_member = (
                -ops.log(ops.clip(picked, _EPS, 1.0)) * ops.take(class_weight, index)[:, None]
            )
        return ops.sum(per_member * outside, axis=1) / max(k - 1, 1)

    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=loss,
        steps_per_execution=32,
    )
    return model


def _fold_loss(output: np.ndarray, label: np.ndarray, classification: bool) -> np.ndarray:
    """Loss per row of one member's output: cross-entropy or squared error."""
    if classification:
        picked = output[np.arange(len(label)), label.astype(np.int64)]
        return -np.log(np.clip(picked, _EPS, 1.0))
    return np.square(output - label)


def _callback_base() -> type:
    import keras

    return keras.callbacks.Callback


class _Judge(_callback_base()):  # type: ignore[misc]
    """After each epoch: each member's loss on its own fold, best weights kept per member."""

    def __init__(
        self,
        members: list[keras.Model],
        *,
        features: dict[str, np.ndarray],
        label: np.ndarray,
        folds: np.ndarray,
        classification: bool,
        steps: Plan,
    ) -> None:
        import tensorflow as tf

        super().__init__()
        self.members, self.label, self.folds = members, label, folds
        self.classification, self.patience = classification, steps.patience
        # each member predicts only its own fold's rows
        own = [
            {key: tf.constant(value[folds == i]) for key, value in features.items()}
            for i in range(len(members))
        ]
        # One function for all members, traced once: a tf.function per member would be
        # traced once each from the same code, which TensorFlow warns about as retracing.
        pairs = list(zip(members, own, strict=True))
        every = tf.function(lambda: [m(x, training=False) for m, x in pairs])
        self.predict_all = lambda: [output.numpy() for output in every()]
        self.best = [np.inf] * len(members)
        self.best_weights: list[list[np.ndarray] | None] = [None] * len(members)
        self.waited = [0] * len(members)
        self.history: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        losses = []
        outputs = self.predict_all()
        for i, member in enumerate(self.members):
            if self.waited[i] >= self.patience:  # stopped: its best weights are kept
                losses.append(self.best[i])
                continue
            rows = self.folds == i
            output = outputs[i]
            loss = float(_fold_loss(output, self.label[rows], self.classification).mean())
            losses.append(loss)
            if loss < self.best[i]:
                self.best[i], self.best_weights[i], self.waited[i] = loss, member.get_weights(), 0
            else:
                self.waited[i] += 1
        self.history.append(float(np.mean(losses)))
        if logs is not None:
            logs["val_loss"] = self.history[-1]
        if all(w >= self.patience for w in self.waited):
            self.model.stop_training = True

    def restore(self) -> None:
        """Give every member the weights of its best epoch."""
        for member, weights in zip(self.members, self.best_weights, strict=True):
            if weights is not None:
                member.set_weights(weights)
