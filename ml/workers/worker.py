"""One training worker: `python -m ml.workers.worker --spec SPEC.json`, TF_CONFIG in its env.

Every worker runs this same program (collective ops need all of them in every step):

1. its place from TF_CONFIG (`ml.workers.cluster.place`), then `MultiWorkerMirroredStrategy`
   before any other TensorFlow op (one worker alone: the default strategy);
2. the model of `ml.model.architecture.build_model` inside the strategy's scope (the strategy
   gives every worker the chief's initial weights);
3. its own shards only (`ml.data.shards.assign`), streamed (`ml.data.tfdata.streaming_dataset`,
   memory bounded by the shuffle buffer, not by the data), repeated without end, with the
   step counts of `ml.workers.cluster.steps`, the same on every worker;
4. the chief (worker 0) copies the trained weights into a model built outside the strategy
   and exports it exactly as one worker does (`ml.model.serving.export` through
   `ml.model.export.publish`), evaluated on the test shards a block at a time.

Early stopping judges the validation loss, which Keras averages over all workers, so every
worker stops at the same epoch. One network is trained (no cross-fitted ensemble).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, replace
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ml.data.schema import DatasetSchema, read_schema
from ml.data.shards import assign, read_blocks, shards_of
from ml.model.training import Plan, plan
from ml.workers.cluster import TF_CONFIG, Place, Steps, jobset_tf_config, place, steps
from ml.workers.spec import WorkerSpec, read_spec
from ml.workers.store import fetch_dataset, is_store_uri, store_from_env, upload_tree

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

__all__ = ["evaluate_shards", "main", "run"]


def run(spec: WorkerSpec, where: Place, scratch: Path) -> dict[str, Any] | None:
    """Train as worker `where.index` of `where.workers`; the chief returns the result.

    A dataset in an object store is first fetched into `scratch`: only this worker's shards.

    Returns:
        For the chief: version, export directory, test metrics, history and plan. None for
        the other workers.

    """
    import tensorflow as tf

    if is_store_uri(spec.dataset):
        local = fetch_dataset(
            spec.dataset,
            store_from_env(os.environ),
            scratch / "dataset",
            workers=where.workers,
            index=where.index,
        )
        spec = spec.model_copy(update={"dataset": str(local)})
    if spec.threads:
        tf.config.threading.set_intra_op_parallelism_threads(spec.threads)
        tf.config.threading.set_inter_op_parallelism_threads(spec.threads)
    strategy = (
        tf.distribute.MultiWorkerMirroredStrategy()
        if where.workers > 1
        else tf.distribute.get_strategy()
    )
    import keras

    from ml.data import read_statistics
    from ml.model.architecture import build_model
    from ml.model.network import label_weights

    schema, statistics = read_schema(spec.directory), read_statistics(spec.directory)
    config = replace(spec.config, members=1)
    rows = {name: schema.splits[name].rows for name in ("train", "validation")}
    settled = plan(rows["train"], config, validation_rows=rows["validation"])
    shares = {
        split: assign(shards_of(schema, split), where.workers, where.index)
        for split in ("train", "validation")
    }
    every = [
        assign(shards_of(schema, "validation"), where.workers, i) for i in range(where.workers)
    ]
    counts = steps(
        batch_size=settled.batch_size, train_steps=settled.steps_per_epoch, validation=every
    )
    keras.utils.set_random_seed(config.seed)
    with strategy.scope():
        model = build_model(schema, statistics, config)
        # Keras 3 builds a model made under a strategy from a first batch averaged over the
        # replicas (`_maybe_symbolic_build`), which fails on a dict of columns with strings;
        # unset, Keras takes the strategy of the scope fit runs in and builds when tracing.
        model._distribute_strategy = None
        if where.workers > 1:
            _local_metrics_on_workers()
            # a collective inside Keras's multi-step loop fails to trace ("You must feed a
            # value for placeholder"): one step per call
            model.steps_per_execution = 1
        weights = label_weights(schema, statistics, config)
        data = _datasets(
            spec, schema, shares, counts, strategy, seed=config.seed + where.index, weights=weights
        )
        started = time.perf_counter()
        history = _fit(model, data, spec, settled, counts, where=where)
    if spec.stats is not None:
        seen = len(history.get("loss", [])) * counts.train * counts.batch
        _write_stats(spec.stats, where, seconds=time.perf_counter() - started, rows=seen)
    if not where.chief:
        return None
    return _export(spec, model, (schema, statistics), history, settled, scratch=scratch)


def _local_metrics_on_workers() -> None:
    """Make Keras report each worker's own reading of the metrics, as "first" would.

    Keras 3.15 reduces a step's metrics of a multi-worker strategy with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars ("Invalid reduction
    dimension 0"); the reduction is fixed to "auto" in `_make_function`, so the module
    function is wrapped. No reduction is needed: the metrics' variables are summed over the
    workers when read, so every worker reads the same loss, accuracy and validation loss (and
    early stopping ends every worker at the same epoch). The tests that train with 2 and 3
    workers fail when a Keras release changes this.
    """
    from keras.src.backend.tensorflow import trainer

    original = trainer.reduce_per_replica
    if getattr(original, "kfstack_first", False):
        return

    def reduce_per_replica(values: Any, strategy: Any, reduction: str) -> Any:
        return original(values, strategy, "first" if reduction == "auto" else reduction)

    reduce_per_replica.kfstack_first = True  # type: ignore[attr-defined]
    trainer.reduce_per_replica = reduce_per_replica


def _datasets(
    spec: WorkerSpec,
    schema: DatasetSchema,
    shares: dict[str, Any],
    counts: Steps,
    strategy: tf.distribute.Strategy,
    *,
    seed: int,
    weights: dict[int, float] | None,
) -> dict[str, Any]:
    """The worker's train and validation input: its shards, streamed, repeated.

    Class weights (`--class-weight balanced`) become each training row's sample weight:
    Keras cannot apply `class_weight` to a distributed dataset.
    """
    import tensorflow as tf

    from ml.data.tfdata import streaming_dataset

    def stream(split: str, shuffle: bool) -> tf.data.Dataset:
        parts = [
            streaming_dataset(
                spec.directory / shard.file,
                schema,
                batch_size=counts.batch,
                shuffle=shuffle,
                seed=seed,
                rows=shard.rows,
            )
            for shard in shares[split]
        ]
        ds = reduce(lambda a, b: a.concatenate(b), parts).repeat()
        if weights is None or not shuffle:
            return ds
        table = tf.constant([weights[i] for i in range(len(weights))], tf.float32)
        return ds.map(lambda x, y: (x, y, tf.gather(table, y)))

    def from_function(split: str, shuffle: bool) -> Any:
        # each worker feeds its own replica from its own shards: no auto-sharding, no rebatching
        return strategy.distribute_datasets_from_function(lambda _context: stream(split, shuffle))

    out = {"train": from_function("train", True)}
    if counts.validation:
        out["validation"] = from_function("validation", False)
    return out


def _fit(
    model: keras.Model,
    data: dict[str, Any],
    spec: WorkerSpec,
    settled: Plan,
    counts: Steps,
    *,
    where: Place,
) -> dict[str, list[float]]:
    import keras

    from ml.model.network import stopping

    validation = data.get("validation")
    callbacks = stopping(validated=validation is not None, patience=settled.patience)
    if where.chief and spec.progress is not None:
        progress = spec.progress

        def report(epoch: int, logs: dict[str, Any] | None) -> None:
            line = {"epoch": epoch + 1, "epochs": settled.epochs, "logs": _floats(logs or {})}
            with progress.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(line) + "\n")

        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=report))
    history = model.fit(
        data["train"],
        steps_per_epoch=counts.train,
        validation_data=validation,
        validation_steps=counts.validation or None,
        epochs=settled.epochs,
        callbacks=callbacks,
        verbose=0,
    )
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def _floats(logs: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in logs.items()}


def _export(
    spec: WorkerSpec,
    trained: keras.Model,
    described: tuple[DatasetSchema, dict[str, Any]],
    history: dict[str, list[float]],
    settled: Plan,
    *,
    scratch: Path,
) -> dict[str, Any]:
    """The chief's export: the trained weights in a model built as one worker builds it.

    An `s3://` export root (a job's) gets the version uploaded once it is complete.
    """
    from ml.model.architecture import build_model
    from ml.model.export import publish
    from ml.model.network import TrainingError
    from ml.model.serving import export

    schema, statistics = described
    losses = history.get("loss", [])
    if not all(math.isfinite(v) for v in losses):
        raise TrainingError(
            "the training loss diverged (NaN or infinite): lower the learning rate "
            f"(now {spec.config.learning_rate}) or check the data for extreme values"
        )
    model = build_model(schema, statistics, replace(spec.config, members=1))
    model.set_weights(trained.get_weights())
    remote = is_store_uri(spec.out)
    root = scratch / "model" if remote else Path(spec.out)
    metrics = publish(
        root,
        spec.version,
        write=lambda directory: export(model, schema, directory),
        check=lambda directory: evaluate_shards(directory, spec.directory),
        dataset_dir=spec.directory,
    )
    export_dir = f"{spec.out}/{spec.version}" if remote else str(root / str(spec.version))
    if remote:
        upload_tree(root / str(spec.version), export_dir, store_from_env(os.environ))
    return {
        "version": spec.version,
        "export_dir": export_dir,
        "metrics": metrics,
        "history": history,
        "plan": asdict(settled),
    }


def _write_stats(directory: Path, where: Place, *, seconds: float, rows: int) -> None:
    """The worker's fit time, rows trained on (steps x its batch) and peak memory (VmHWM)."""
    status = Path("/proc/self/status")
    lines = status.read_text().splitlines() if status.is_file() else []
    peak = [int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:")]
    stats = {
        "index": where.index,
        "seconds": seconds,
        "rows": rows,
        "peak_rss_mb": peak[0] if peak else None,
    }
    (directory / f"worker-{where.index}.stats.json").write_text(json.dumps(stats) + "\n")


def evaluate_shards(
    export_dir: Path, dataset_dir: Path, *, split: str = "test"
) -> dict[str, float]:
    """Evaluate an exported model on a (sharded) split, reading a block of rows at a time.

    The same metrics as `ml.model.network.evaluate`, without holding the split in memory
    (only the predictions, a few numbers per row).
    """
    from ml.model.metrics import classification_metrics, regression_metrics
    from ml.model.network import TrainingError
    from ml.model.serving import predict_columns

    schema = read_schema(dataset_dir)
    labels, outputs = [], []
    for shard in shards_of(schema, split):
        for features, label in read_blocks(dataset_dir / shard.file, schema):
            labels.append(label)
            outputs.append(predict_columns(export_dir, features))
    if not labels:
        raise ValueError(f"{dataset_dir}: split {split!r} has no rows to evaluate on")
    label, output = np.concatenate(labels), np.concatenate(outputs)
    if schema.label.classes is None:
        metrics = regression_metrics(label, output)
    else:
        metrics = classification_metrics(label, output)
    bad = sorted(k for k in ("loss", "accuracy", "rmse") if not math.isfinite(metrics.get(k, 0.0)))
    if bad:
        raise TrainingError(f"test metrics are not finite ({', '.join(bad)}): {metrics}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Run one worker of the spec given by `--spec`, its place from TF_CONFIG.

    A failure is written to `<errors>/worker-<index>.error` (for the launcher to name it) and
    to stderr; the exit status is then 1.
    """
    parser = argparse.ArgumentParser(prog="python -m ml.workers.worker")
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--spec", type=Path, help="the run's WorkerSpec (a JSON file)")
    given.add_argument("--spec-json", help="the run's WorkerSpec as JSON text (in a pod)")
    args = parser.parse_args(argv)
    if args.spec is not None:
        spec = read_spec(args.spec)
    else:
        spec = WorkerSpec.model_validate_json(args.spec_json)
    where = Place(0, 1)
    try:
        config = jobset_tf_config(os.environ)
        if config is not None:  # a TrainJob's pod: TensorFlow reads TF_CONFIG itself
            os.environ[TF_CONFIG] = json.dumps(config)
        where = place(os.environ)
        with tempfile.TemporaryDirectory(prefix="kfstack-worker-") as scratch:
            result = run(spec, where, Path(scratch))
    except Exception as error:
        traceback.print_exc()
        if spec.errors is not None:
            message = f"{type(error).__name__}: {error}"
            (spec.errors / f"worker-{where.index}.error").write_text(message, encoding="utf-8")
        return 1
    if result is not None and spec.result is not None:
        spec.result.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
