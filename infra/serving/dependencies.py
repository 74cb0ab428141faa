"""What the serving resources must wait for, chosen from the install plan (pure).

The InferenceService's own edges come from the same inference as the platform's
(its CRD, the KServe webhooks and the workloads behind them); what inference cannot
see (the controller, the tensorflow runtime, the storage initializer, the profile
that owns the namespace, the registry server) is named here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.config_model import StorageMode
from infra.kubeflow import InstallPlan, Manifest, ObjectKey, ObjectMatch, infer_edges
from infra.serving.inference import ServingError

KSERVE_CONTROLLER = ObjectMatch(kind="Deployment", name="kserve-controller-manager")
TENSORFLOW_RUNTIME = ObjectMatch(kind="ClusterServingRuntime", name="kserve-tensorflow-serving")
REGISTRY_STORAGE = ObjectMatch(
    kind="ClusterStorageContainer", name="model-registry-storage-initializer"
)
# KServe's own storage initializer: s3://, gs://, pvc://, https:// URIs.
DEFAULT_STORAGE = ObjectMatch(kind="ClusterStorageContainer", name="default")
REGISTRY_SERVER = (
    ObjectMatch(kind="Deployment", name="model-registry-deployment"),
    ObjectMatch(kind="Service", name="model-registry-service"),
)
PIPELINE_STORE = (
    ObjectMatch(kind="CustomResourceDefinition", name="pipelines.pipelines.kubeflow.org"),
    ObjectMatch(kind="CustomResourceDefinition", name="pipelineversions.pipelines.kubeflow.org"),
    ObjectMatch(kind="Deployment", name="ml-pipeline"),
)


@dataclass(frozen=True)
class ServingDependencies:
    """Plan objects each serving resource depends on."""

    inference_service: tuple[ObjectKey, ...]
    registry: tuple[ObjectKey, ...]
    pipeline: tuple[ObjectKey, ...]


def _find(plan: InstallPlan, match: ObjectMatch, *, needed_for: str) -> ObjectKey:
    found = [o.key for o in plan.objects if match.matches(o.key)]
    if not found:
        what = f"{match.kind} {match.name}"
        raise ServingError(
            f"{needed_for} needs {what}, which the install plan does not hold: "
            "add the component that provides it to kfstack:kubeflow.components"
        )
    return found[0]


def _profile(plan: InstallPlan, namespace: str) -> tuple[ObjectKey, ...]:
    return tuple(o.key for o in plan.objects if o.key.kind == "Profile" and o.key.name == namespace)


def serving_dependencies(
    plan: InstallPlan,
    inference_service: Manifest | None,
    *,
    storage: StorageMode,
    with_registry: bool,
    with_pipeline: bool,
    namespace: str,
) -> ServingDependencies:
    """The plan objects that the InferenceService, registry entry and pipeline wait for.

    Raises:
        ServingError: the plan lacks a component the serving resources need.
    """
    registry: tuple[ObjectKey, ...] = ()
    if with_registry:
        registry = tuple(
            _find(plan, m, needed_for="the Model Registry entry") for m in REGISTRY_SERVER
        )
    pipeline: tuple[ObjectKey, ...] = ()
    if with_pipeline:
        pipeline = tuple(
            _find(plan, m, needed_for="the pipeline (kubeflow.pipelineDefinitions: kubernetes)")
            for m in PIPELINE_STORE
        )
    served: tuple[ObjectKey, ...] = ()
    if inference_service is not None:
        served = _inference_service_needs(plan, inference_service, storage, namespace)
    return ServingDependencies(inference_service=served, registry=registry, pipeline=pipeline)


def _inference_service_needs(
    plan: InstallPlan, manifest: Manifest, storage: StorageMode, namespace: str
) -> tuple[ObjectKey, ...]:
    manifests: Sequence[Manifest] = [*(o.manifest for o in plan.objects), manifest]
    inferred = infer_edges(manifests).get(ObjectKey.of(manifest), frozenset())
    declared = {
        _find(plan, KSERVE_CONTROLLER, needed_for="the InferenceService"),
        _find(plan, TENSORFLOW_RUNTIME, needed_for="the InferenceService"),
        *_profile(plan, namespace),
    }
    if storage == "model-registry":
        declared.add(_find(plan, REGISTRY_STORAGE, needed_for="storage model-registry"))
    else:
        declared.add(_find(plan, DEFAULT_STORAGE, needed_for="storage uri"))
    return tuple(sorted(set(inferred) | declared))


def namespaced_needs(
    plan: InstallPlan, added: Sequence[Manifest], namespace: str
) -> dict[ObjectKey, tuple[ObjectKey, ...]]:
    """What each object the stack adds in the serving namespace waits for.

    The edges inference finds (its CRD, webhooks) and the Profile that makes the namespace.
    """
    edges = infer_edges([*(o.manifest for o in plan.objects), *added])
    profile = set(_profile(plan, namespace))
    planned = {o.key for o in plan.objects}
    needs: dict[ObjectKey, tuple[ObjectKey, ...]] = {}
    for manifest in added:
        key = ObjectKey.of(manifest)
        found = {k for k in edges.get(key, frozenset()) if k in planned}
        needs[key] = tuple(sorted(found | profile))
    return needs
