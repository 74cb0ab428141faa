"""KFP component: a built dataset -> a trained SavedModel in the TF Serving layout.

The output Model is the export root: the SavedModel is in `<model.path>/<serving_version>/`
(with `assets.extra/` holding schema.json, statistics.json and metrics.json), which is what
KServe's `storageUri` names: the parent of the integer version directory.

With `workers` above 1 the step trains as a Kubeflow training job of that many pods (a
TrainJob on the Trainer, a TFJob on the Training Operator, `ml.workers.step`) and passes the
chief's export on as the same output.
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from ml.components.image import KFSTACK_IMAGE


@dsl.component(base_image=KFSTACK_IMAGE, install_kfp_package=False)
def train(
    dataset: Input[Dataset],
    *,
    epochs: int = 0,
    batch_size: int = 0,
    learning_rate: float = 0.001,
    patience: int = 0,
    model: Output[Model],
    class_weight: str = "auto",
    seed: int = 0,
    serving_version: int = 1,
    workers: int = 1,
) -> None:
    """Train on `dataset` and export the model to `<model.path>/<serving_version>/`.

    Args:
        dataset: A directory written by `ingest_validate`.
        model: The export root (the parent of the version directory).
        epochs: Maximum epochs (early stopping on the validation loss may end sooner);
            0: from the row count.
        batch_size: Rows per batch; 0: from the row count.
        learning_rate: Adam learning rate.
        patience: Epochs without a better validation loss before stopping; 0: automatic.
        class_weight: "auto" (weigh classes of an imbalanced label), "balanced" or "none".
        seed: Seed of weights and shuffles.
        serving_version: The integer TF Serving version directory.
        workers: 1 trains in this pod; more: a training job of that many worker pods in the
            run's namespace (MultiWorkerMirroredStrategy, `kfstack:training` on the stack).

    """
    from pathlib import Path

    from ml.model import TrainConfig
    from ml.model import train as train_model

    config = TrainConfig(
        epochs=epochs or None,
        batch_size=batch_size or None,
        learning_rate=learning_rate,
        patience=patience or None,
        class_weight=class_weight,  # type: ignore[arg-type]
        seed=seed,
    )
    root = Path(model.path)
    root.mkdir(parents=True, exist_ok=True)
    if workers > 1:
        from ml.workers.step import StepInput, run_step

        step = StepInput(
            dataset_path=Path(dataset.path),
            dataset_uri=dataset.uri,
            model_path=root,
            model_uri=model.uri,
            workers=workers,
            version=serving_version,
            config=config,
        )
        version = run_step(step)
        model.metadata.update(
            {
                "framework": "tensorflow",
                "format_version": "2",
                "serving_version": version,
                "version": str(version),
                "workers": workers,
            }
        )
        return
    result = train_model(Path(dataset.path), root, version=serving_version, config=config)
    model.metadata.update(
        {
            "framework": "tensorflow",
            "format_version": "2",
            "serving_version": result.version,
            "version": str(result.version),
            "epochs_trained": len(result.history.get("loss", [])),
            "batch_size": result.plan.batch_size if result.plan else batch_size,
        }
    )
