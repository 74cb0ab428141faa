"""KFP component: a promoted model -> its release record (`ml.model_release.record`) as JSON.

The record is what the stack reads to register the model version in the Model Registry and
serve it with KServe: name, version, the storage URI of the model (the parent of its integer
version directory), metrics, the input schema of the serving signature and the pipeline run.
"""

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output

from ml.components.image import KFSTACK_IMAGE


@dsl.component(base_image=KFSTACK_IMAGE, install_kfp_package=False)
def write_release(
    model: Input[Model],
    metrics: Input[Metrics],
    dataset: Input[Dataset],
    release: Output[Artifact],
    *,
    version: str = "",
    storage_uri: str = "",
    description: str = "",
    name: str,
    run_id: str = "",
    run_name: str = "",
) -> None:
    """Write the release record of `model` (`ml.model_release.record.write_release`) to `release`.

    Args:
        model: The export root written by `train` (`<uri>/<version>/`).
        metrics: The candidate's metrics (from `evaluate`).
        dataset: The dataset the model was trained on (its schema.json gives the inputs).
        release: The release record, JSON (`ml.model_release.record.load_release` reads it).
        name: Model name in the registry and of the InferenceService (DNS-1035 label).
        version: Registry version name; "" makes one from the run id.
        storage_uri: Where KServe fetches the model; "" derives it from the model's URI.
        description: Free text for the registry.
        run_id: The pipeline run id (pass `dsl.PIPELINE_JOB_ID_PLACEHOLDER`).
        run_name: The pipeline run name (pass `dsl.PIPELINE_JOB_NAME_PLACEHOLDER`).

    """
    from pathlib import Path

    from ml.components.core.comparison import candidate_metrics, model_metrics
    from ml.components.core.evaluation import finite
    from ml.components.core.model_dir import version_dir
    from ml.components.core.release import build_release, storage_uri_of
    from ml.data import read_schema
    from ml.model_release import write_release as write_record

    record = build_release(
        name=name,
        version=version,
        serving_version=int(version_dir(model.path).name),
        storage_uri=storage_uri or storage_uri_of(model.uri),
        metrics=finite(model_metrics(candidate_metrics(dict(metrics.metadata)))),
        schema=read_schema(Path(dataset.path)),
        run_id=run_id,
        run_name=run_name,
        description=description,
    )
    write_record(record, release.path)
    release.metadata.update(
        {"name": record.name, "version": record.version, "storage_uri": record.storage_uri}
    )
