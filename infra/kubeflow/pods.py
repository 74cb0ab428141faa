"""Pod-level facts of a manifest: its pod template, what the pod needs, what selects it.

The one place that knows where a workload keeps its pod template and containers;
shared by the transforms (credentials, resources), the install graph and the policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.kubeflow.objects import Manifest, ObjectKey

# Kinds whose pods the provider awaits (or a controller creates) and where their template is.
_POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
# Every kind with pods: the workloads above and the Pod itself.
POD_TEMPLATE_KINDS = frozenset({*_POD_TEMPLATE_PATHS, "Pod"})
# The workloads a Service can put in front of a webhook (long-running pods).
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
_CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


def labels_of(manifest: Mapping[str, Any]) -> dict[str, str]:
    """Return metadata.labels of a manifest or pod template (empty if none)."""
    meta = manifest.get("metadata") or {}
    return {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}


def pod_template(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the pod template (metadata + spec) of a workload, the Pod itself, or None."""
    if manifest.get("kind") == "Pod" and manifest.get("apiVersion") == "v1":
        return manifest
    path = _POD_TEMPLATE_PATHS.get(str(manifest.get("kind", "")))
    if path is None or "/" not in str(manifest.get("apiVersion", "")):
        return None
    node: Any = manifest
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def containers(pod_spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Yield every container of a pod spec: init, regular and ephemeral."""
    for field in _CONTAINER_FIELDS:
        for container in pod_spec.get(field) or ():
            if isinstance(container, Mapping):
                yield container


def mutable_containers(manifest: Manifest) -> Iterator[dict[str, Any]]:
    """Yield the containers of a workload or Pod as the dicts inside `manifest`.

    For transforms working on their own deep copy: changing a yielded container
    changes `manifest`.
    """
    template = pod_template(manifest)
    spec = (template or {}).get("spec") or {}
    for field in _CONTAINER_FIELDS:
        for container in spec.get(field) or ():
            if isinstance(container, dict):
                yield container


def selector_matches_labels(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Return whether a Service-style selector (plain map, non-empty) selects `labels`."""
    if not selector:
        return False
    return all(labels.get(str(k)) == str(v) for k, v in selector.items())


def services_selecting(workload: Manifest, services: Sequence[Manifest]) -> list[ObjectKey]:
    """Return the keys of the Services (same namespace) whose selector picks the workload's pods."""
    template = pod_template(workload)
    if template is None:
        return []
    namespace = ObjectKey.of(workload).namespace
    pod_labels = labels_of(template)
    return [
        ObjectKey.of(svc)
        for svc in services
        if ObjectKey.of(svc).namespace == namespace
        and selector_matches_labels((svc.get("spec") or {}).get("selector"), pod_labels)
    ]


def _volume_refs(pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for volume in pod_spec.get("volumes") or ():
        if "configMap" in volume:
            yield "ConfigMap", str(volume["configMap"].get("name", ""))
        if "secret" in volume:
            yield "Secret", str(volume["secret"].get("secretName", ""))
        for source in (volume.get("projected") or {}).get("sources") or ():
            if "configMap" in source:
                yield "ConfigMap", str(source["configMap"].get("name", ""))
            if "secret" in source:
                yield "Secret", str(source["secret"].get("name", ""))


def _env_refs(pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for container in containers(pod_spec):
        for source in container.get("envFrom") or ():
            if "configMapRef" in source:
                yield "ConfigMap", str(source["configMapRef"].get("name", ""))
            if "secretRef" in source:
                yield "Secret", str(source["secretRef"].get("name", ""))
        for env in container.get("env") or ():
            value_from = env.get("valueFrom") or {}
            if "configMapKeyRef" in value_from:
                yield "ConfigMap", str(value_from["configMapKeyRef"].get("name", ""))
            if "secretKeyRef" in value_from:
                yield "Secret", str(value_from["secretKeyRef"].get("name", ""))


def pod_references(manifest: Manifest) -> set[tuple[str, str]]:
    """Return (kind, name) of the namespaced objects the pods need to start.

    ServiceAccount, ConfigMaps and Secrets mounted or read from env, image pull Secrets.
    PersistentVolumeClaims and Services are deliberately left out: the provider awaits a
    PVC until bound (which a WaitForFirstConsumer class does only once a pod uses it) and
    a Service until it has endpoints, so depending on them could deadlock.
    """
    template = pod_template(manifest)
    if template is None:
        return set()
    spec = template.get("spec") or {}
    refs = set(_volume_refs(spec)) | set(_env_refs(spec))
    refs.add(("ServiceAccount", str(spec.get("serviceAccountName") or "default")))
    refs.update(("Secret", str(s.get("name", ""))) for s in spec.get("imagePullSecrets") or ())
    return {(kind, name) for kind, name in refs if name}
