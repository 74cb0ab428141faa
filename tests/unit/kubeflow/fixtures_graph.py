"""Tiny hand-made manifests for graph, policy and validation tests, and the real render."""

from __future__ import annotations

from typing import Any

from infra.kubeflow.objects import ObjectKey

Manifest = dict[str, Any]


def namespace(name: str, **labels: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deployment(
    name: str, ns: str, labels: dict[str, str] | None = None, *, spec: Manifest | None = None
) -> Manifest:
    pod_labels = labels or {"app": name}
    pod_spec = spec or {"containers": [{"name": "main", "image": "example/app:1"}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": pod_labels},
            "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec},
        },
    }


def service(name: str, ns: str, selector: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector, "ports": [{"port": 443, "targetPort": 9443}]},
    }


def crd(group: str, kind: str, plural: str, *, scope: str = "Namespaced") -> Manifest:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": kind, "plural": plural},
            "scope": scope,
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {
                                        "size": {"type": "integer", "minimum": 1},
                                        "note": {"type": "string", "nullable": True},
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def custom(group: str, kind: str, name: str, ns: str = "", **spec: Any) -> Manifest:
    meta: Manifest = {"name": name}
    if ns:
        meta["namespace"] = ns
    body = spec or {"size": 1}
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": meta, "spec": body}


def webhook_config(
    name: str,
    *,
    rules: list[Manifest],
    service_ref: tuple[str, str] = ("hooks", "hook-svc"),
    failure_policy: str | None = "Fail",
    namespace_selector: Manifest | None = None,
    object_selector: Manifest | None = None,
    mutating: bool = False,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    hook: Manifest = {
        "name": f"{name}.example.io",
        "clientConfig": {"service": {"namespace": service_ref[0], "name": service_ref[1]}},
        "rules": rules,
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }
    if failure_policy is not None:
        hook["failurePolicy"] = failure_policy
    if namespace_selector is not None:
        hook["namespaceSelector"] = namespace_selector
    if object_selector is not None:
        hook["objectSelector"] = object_selector
    kind = "MutatingWebhookConfiguration" if mutating else "ValidatingWebhookConfiguration"
    meta: Manifest = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "webhooks": [hook],
    }


def rule(
    groups: list[str], resources: list[str], *, operations: list[str] | None = None, **extra: Any
) -> Manifest:
    return {
        "apiGroups": groups,
        "apiVersions": ["*"],
        "resources": resources,
        "operations": operations or ["CREATE", "UPDATE"],
        **extra,
    }


def obj(kind: str, name: str, ns: str = "", *, api: str = "v1", **fields: Any) -> Manifest:
    """A bare object (ConfigMap, ServiceAccount, ClusterRole ...) with extra top-level fields."""
    meta = {"name": name, "namespace": ns} if ns else {"name": name}
    return {"apiVersion": api, "kind": kind, "metadata": meta, **fields}


def key(manifest: Manifest) -> ObjectKey:
    return ObjectKey.of(manifest)
