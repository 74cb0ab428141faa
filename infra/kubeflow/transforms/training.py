"""The training runtime kfstack's train step needs, added where the release has the Trainer.

With `kfstack:training.maxWorkers` above 1 the pipeline's train step runs as a TrainJob on
the `kfstack-tensorflow` ClusterTrainingRuntime (`ml.workers.jobs.runtime`, the one place it
is written): the Trainer ships runtimes for PyTorch, DeepSpeed, MLX and torchtune only. It
is planned with the component that holds the ClusterTrainingRuntime CRD, after that CRD
(the install graph's CRD edge). A release with the Training Operator instead (TFJob) needs
no runtime: the operator writes each pod's TF_CONFIG itself.
"""

from __future__ import annotations

from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.settings import KubeflowSettings

RUNTIME_CRD = "clustertrainingruntimes.trainer.kubeflow.org"


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Add kfstack's ClusterTrainingRuntime when training jobs are on and the plan can hold it."""
    if settings.training_workers <= 1:
        return objects
    owner = next(
        (
            o.component
            for o in objects
            if o.key.kind == "CustomResourceDefinition" and o.key.name == RUNTIME_CRD
        ),
        None,
    )
    if owner is None:
        return objects
    from ml.workers.jobs import runtime

    manifest = runtime(settings.training_workers)
    added = PlannedObject(
        key=ObjectKey.of(manifest),
        manifest=manifest,
        component=owner,
        origin="stack",
        reason="the runtime of kfstack's multi-worker train step (kfstack:training)",
    )
    return (*objects, added)
