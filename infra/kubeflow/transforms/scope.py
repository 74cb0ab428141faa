"""Cluster-scoped objects carry no namespace (pure).

Kustomize's `namespace:` field cannot know the scope of a custom kind, so the
release renders some cluster-scoped objects (the trainer's ClusterTrainingRuntimes,
the model registry's ClusterStorageContainer) with a `metadata.namespace`. The API
server's scope wins; the plan says what the cluster will hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from infra.kubeflow.crds import crds_of
from infra.kubeflow.objects import ObjectKey, PlannedObject

# Built-in cluster-scoped kinds, by (group, kind).
BUILTIN_CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("apiregistration.k8s.io", "APIService"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("node.k8s.io", "RuntimeClass"),
    }
)


def cluster_scoped_kinds(manifests: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """Built-in cluster-scoped kinds plus those the CRDs among `manifests` declare."""
    custom = {k for k, crd in crds_of(manifests).items() if not crd.namespaced}
    return frozenset(BUILTIN_CLUSTER_SCOPED | custom)


def without_namespace(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `manifest` whose metadata has no namespace."""
    metadata = {k: v for k, v in (manifest.get("metadata") or {}).items() if k != "namespace"}
    return {**manifest, "metadata": metadata}


def normalise_key(key: ObjectKey, cluster_scoped: frozenset[tuple[str, str]]) -> ObjectKey:
    """The key as the cluster knows it: no namespace for a cluster-scoped kind."""
    if key.namespace and (key.group, key.kind) in cluster_scoped:
        return replace(key, namespace="")
    return key


def strip_cluster_namespaces(objects: Sequence[PlannedObject]) -> tuple[PlannedObject, ...]:
    """Drop `metadata.namespace` from every cluster-scoped object of the plan."""
    scoped = cluster_scoped_kinds(o.manifest for o in objects)
    out = []
    for obj in objects:
        key = normalise_key(obj.key, scoped)
        if key == obj.key:
            out.append(obj)
        else:
            out.append(replace(obj, key=key, manifest=without_namespace(obj.manifest)))
    return tuple(out)
