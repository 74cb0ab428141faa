"""KFP component: the train step as a Kubeflow training job of N workers (`ml.workers.step`).

Same inputs and output as `train`: a built dataset in, the export root out (the SavedModel in
`<model.path>/<serving_version>/`), so evaluation, comparison and the release read it alike.
The job is a TrainJob on releases with the Trainer (26.03) and a TFJob on releases with the
Training Operator (v1.10.2), as the cluster serves them; it runs in the run's namespace on the
step's own image. The step's log follows the job's conditions.
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output

from ml.components.image import KFSTACK_IMAGE


@dsl.component(base_image=KFSTACK_IMAGE, install_kfp_package=False)
def train_job(
    dataset: Input[Dataset],
    *,
    workers: int,
    model: Output[Model],
    training: dict,
    serving_version: int = 1,
    store_endpoint: str = "",
    timeout_seconds: int = 0,
) -> None:
    """Train on `dataset` with `workers` pods of a training job; export like `train`.

    Args:
        dataset: A directory written by `ingest_validate`.
        workers: Worker pods (MultiWorkerMirroredStrategy), 2 or more.
        model: The export root (the parent of the version directory).
        training: The `ml.model.training.TrainConfig` as JSON (epochs, batch size, learning
            rate, patience, class weight, seed; left out: from the row count).
        serving_version: The integer TF Serving version directory.
        store_endpoint: The object store's S3 URL as pods reach it; "": the release's own.
        timeout_seconds: Delete the job and fail after this long; 0: no limit.

    """
    from pathlib import Path

    from pydantic import TypeAdapter

    from ml.model import TrainConfig
    from ml.workers.step import StepInput, run_step

    config = TypeAdapter(TrainConfig).validate_python(dict(training))
    step = StepInput(
        dataset_path=Path(dataset.path),
        dataset_uri=dataset.uri,
        model_path=Path(model.path),
        model_uri=model.uri,
        workers=workers,
        version=serving_version,
        config=config,
        store_endpoint=store_endpoint,
        timeout=float(timeout_seconds) or None,
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
