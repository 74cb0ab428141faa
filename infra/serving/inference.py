"""The KServe InferenceService (v1beta1) that serves a model release.

The tensorflow runtime defaults to the TF Serving 2.6.2 image, so `runtimeVersion`
is always pinned; `storageUri` is the parent of the integer version directory, or
`model-registry://<model>/<version>` through the registry's storage initializer.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config_model import ServingConfig, StorageMode
from infra.kubeflow import Manifest
from infra.serving.rollout import DIGEST_ANNOTATION, spec_digest
from ml.model_release import TAG_ROUTING_ANNOTATION, ModelRelease

API_VERSION = "serving.kserve.io/v1beta1"
# pulumi-kubernetes awaits no custom resource by itself; with this annotation it watches
# the object until `.status.conditions[type=Ready]` is True (kubectl wait's rule, checked
# against metadata.generation) and fails the update when the resource's customTimeouts end.
WAIT_FOR = {"pulumi.com/waitFor": "condition=Ready"}


@dataclass(frozen=True)
class ServingOptions:
    """How the release is served: a view of `kfstack:serving` plus what the stack derives.

    Attributes:
        config: the validated `kfstack:serving` (its defaults live in infra/config_model.py).
        namespace: where models are served: configured, else the first user's profile.
        await_ready: False only in test mode `kwok` (the engine tier): no KServe controller
            runs there, so nothing would ever become Ready.
    """

    config: ServingConfig
    namespace: str
    await_ready: bool


class ServingError(ValueError):
    """The releases cannot be served as asked."""


def storage_uri(release: ModelRelease, storage: StorageMode) -> str:
    """Where KServe's storage initializer fetches the model from."""
    return release.registry_uri if storage == "model-registry" else release.storage_uri


def canary_percent(
    release: ModelRelease, serving: ModelRelease | None, options: ServingOptions
) -> int | None:
    """The canary share for the new release, or None for a plain (100%) rollout.

    Raises:
        ServingError: the serving release is another model.
    """
    if serving is None or serving.version == release.version:
        return None
    if serving.name != release.name:
        raise ServingError(
            f"kfstack:serving.servingRelease is model {serving.name!r}, but the release "
            f"to serve is {release.name!r}: a canary splits traffic between versions of "
            "one model"
        )
    if serving.storage_uri == release.storage_uri and options.config.storage == "uri":
        raise ServingError(
            f"releases {serving.version!r} and {release.version!r} share storage_uri "
            f"{release.storage_uri!r}: TF Serving loads the highest version directory there "
            "for both revisions, so a canary would not split between them; give each "
            "release its own storage_uri"
        )
    return options.config.canary_traffic_percent


def inference_service(
    release: ModelRelease,
    options: ServingOptions,
    *,
    serving: ModelRelease | None = None,
    default_service_account: str | None = None,
) -> Manifest:
    """The InferenceService manifest for `release` (canary when replacing `serving`).

    The predictor runs as `kfstack:serving.serviceAccount` when set, else as
    `default_service_account` (the one carrying the object store's keys).
    """
    config = options.config
    resources = {"cpu": config.cpu, "memory": config.memory}
    predictor: dict[str, object] = {
        "minReplicas": config.min_replicas,
        "maxReplicas": config.max_replicas,
        "model": {
            "modelFormat": {"name": release.format.name, "version": release.format.version},
            "runtimeVersion": config.runtime_version,
            "storageUri": storage_uri(release, config.storage),
            "resources": {"requests": resources, "limits": resources},
        },
    }
    canary = canary_percent(release, serving, options)
    if canary is not None:
        predictor["canaryTrafficPercent"] = canary
    account = config.service_account or default_service_account
    if account:
        predictor["serviceAccountName"] = account
    labels = {
        "app.kubernetes.io/name": release.name,
        "app.kubernetes.io/version": _label_value(release.version),
        "app.kubernetes.io/managed-by": "kfstack",
    }
    manifest: Manifest = {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": release.name,
            "namespace": options.namespace,
            "labels": labels,
            "annotations": {
                "serving.kserve.io/deploymentMode": "Serverless",
                # Tagged revisions: `kfstack serve check --target canary` reaches the canary.
                TAG_ROUTING_ANNOTATION: "true",
                **(WAIT_FOR if options.await_ready else {}),
            },
        },
        "spec": {"predictor": predictor},
    }
    # Lets the rollout check tell this spec's status from the previous one's.
    manifest["metadata"]["annotations"][DIGEST_ANNOTATION] = spec_digest(manifest)
    return manifest


def predict_path(release: ModelRelease) -> str:
    """The KServe v1 protocol predict path of the model."""
    return f"/v1/models/{release.name}:predict"


def _label_value(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in value)[:63]
    return cleaned.strip("-_.") or "unknown"
