"""The kfstack training pipeline: data -> training -> evaluation -> comparison -> gate -> release.

The release record is the pipeline's hand-over to the stack: `pulumi up` reads it to register
the model version in the Model Registry and serve it with KServe ("registration -> serving").
A candidate is released only when it meets the configured threshold and is not worse than
the model now serving (the gate, a `dsl.If` on the comparison's verdict).

Quick start::

    compile_pipeline(Path("training.yaml"))       # IR YAML for Kubeflow Pipelines
    # or, on a laptop: ml.pipelines.local.run_local(csv, label, out)
"""

from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import HTML, Metrics, Model

from ml.components.compare import compare
from ml.components.evaluate import evaluate
from ml.components.image import KFSTACK_IMAGE
from ml.components.ingest_validate import ingest_validate
from ml.components.train import train
from ml.components.write_release import write_release

__all__ = ["PIPELINE_NAME", "TASKS", "compile_pipeline", "training_pipeline"]

PIPELINE_NAME = "kfstack-training"
#: Task name -> what it shows as in the KFP UI (and in the DAG picture).
TASKS = {
    "importer": "source CSV",
    "ingest-validate": "data preparation",
    "train": "training",
    "evaluate": "evaluation",
    "compare": "comparison with the serving model",
    "write-release": "release record → registration → serving",
}
GATE = "gate: promote candidate"


class Outputs(NamedTuple):
    """What a run of the pipeline returns (the release record exists only when promoted)."""

    model: Model
    metrics: Metrics
    comparison: HTML
    promote: bool


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="CSV -> validated dataset -> Keras model (SavedModel) -> metrics -> comparison "
    "with the serving model -> release record for registration and serving.",
)
def training_pipeline(  # noqa: PLR0917 (kfp calls a pipeline with positional arguments)
    csv_uri: str,
    dataset_spec: dict,
    model_name: str,
    seed: int = 0,
    epochs: int = 0,
    batch_size: int = 0,
    learning_rate: float = 0.001,
    patience: int = 0,
    class_weight: str = "auto",
    serving_version: int = 1,
    workers: int = 1,
    metric: str = "loss",
    threshold: str = "",
    direction: str = "auto",
    min_gain: float = 0.0,
    serving_metrics: str = "",
    version: str = "",
    storage_uri: str = "",
    description: str = "",
) -> Outputs:
    """Train a model on a CSV and release it if it beats the serving model.

    Args:
        csv_uri: The source CSV (gs://, s3://, minio:// on a cluster; a path with kfp.local).
        dataset_spec: The `ml.data.schema.DatasetSpec` as JSON (`kfstack.cli.pipeline_params`):
            label, column kinds, columns to drop, task, classes, delimiter; the rest is inferred.
        model_name: Registry and InferenceService name of the model (DNS-1035 label).
        seed: Seed of the split, weights and shuffles.
        epochs: Maximum training epochs; 0: from the row count.
        batch_size: Rows per batch; 0: from the row count.
        learning_rate: Adam learning rate.
        patience: Early-stopping patience (epochs); 0: automatic.
        class_weight: "auto" (imbalanced labels), "balanced" or "none".
        serving_version: Integer TF Serving version directory of the model.
        workers: 1 trains in the step's pod; more: a Kubeflow training job of that many
            workers (TrainJob or TFJob, as the cluster's release has), `ml.workers`.
        metric: Metric the gate decides on (e.g. accuracy, auc, loss, rmse).
        threshold: Bound the metric must pass to be released (a number); "": no bound.
        direction: "maximize", "minimize" or "auto" (by the metric's name).
        min_gain: How much better than the trivial baseline (majority class / mean) the
            metric must be for a release.
        serving_metrics: JSON of the serving model's release record or metrics; "" if none.
        version: Registry version name of the release; "" uses the run id.
        storage_uri: Where KServe will fetch the model; "" derives it from the artifact URI.
        description: Free text for the registry.

    """
    source = dsl.importer(
        artifact_uri=csv_uri, artifact_class=dsl.Dataset, reimport=False
    ).set_display_name(TASKS["importer"])
    data = ingest_validate(csv=source.output, spec=dataset_spec, seed=seed).set_display_name(
        TASKS["ingest-validate"]
    )
    trained = train(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        dataset=data.outputs["dataset"],
        patience=patience,
        class_weight=class_weight,
        seed=seed,
        serving_version=serving_version,
        workers=workers,
    ).set_display_name(TASKS["train"])
    evaluated = evaluate(
        model=trained.outputs["model"], dataset=data.outputs["dataset"]
    ).set_display_name(TASKS["evaluate"])
    compared = compare(
        candidate=evaluated.outputs["metrics"],
        dataset=data.outputs["dataset"],
        serving_metrics=serving_metrics,
        metric=metric,
        threshold=threshold,
        direction=direction,
        min_gain=min_gain,
    ).set_display_name(TASKS["compare"])
    with dsl.If(compared.outputs["Output"] == True, name=GATE):  # noqa: E712 (a kfp condition)
        release = write_release(
            model=trained.outputs["model"],
            metrics=evaluated.outputs["metrics"],
            name=model_name,
            dataset=data.outputs["dataset"],
            version=version,
            storage_uri=storage_uri,
            description=description,
            run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            run_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        ).set_display_name(TASKS["write-release"])
        # A release records the run that made it: never reuse one from the cache.
        release.set_caching_options(enable_caching=False)
    return Outputs(
        model=trained.outputs["model"],
        metrics=evaluated.outputs["metrics"],
        comparison=compared.outputs["chart"],
        promote=compared.outputs["Output"],
    )


def compile_pipeline(out: Path, *, image: str = KFSTACK_IMAGE) -> Path:
    """Compile the training pipeline to IR YAML at `out`, its components on `image`.

    Args:
        out: The YAML file to write (parent directories are created).
        image: The container image of every component (default `KFSTACK_IMAGE`).

    Raises:
        ValueError: an empty image reference.

    """
    if not image.strip() or any(c.isspace() for c in image):
        raise ValueError(f"image must be a container image reference, got {image!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(training_pipeline, str(out))
    if image != KFSTACK_IMAGE:
        text = out.read_text(encoding="utf-8")
        out.write_text(
            text.replace(f"image: {KFSTACK_IMAGE}\n", f"image: {image}\n"), encoding="utf-8"
        )
    return out
