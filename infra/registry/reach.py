"""The Model Registry reachable through the API server where NetworkPolicies are enforced (pure).

The stack's registry client goes through the API server's service proxy, so the
connection to the registry pod comes from the API server: not a pod, so no namespace or
pod selector can name it. Kubeflow 26.03 restricts the registry server's ingress to
profile namespaces and istio-system (NetworkPolicy `kubeflow/model-registry`), which
drops the proxy's connection under a CNI that enforces policies. The release's own
answer for the API server calling its webhooks is a NetworkPolicy that allows the port
from any source (`istiod-webhook-apiserver`, `webhook-apiserver`, `kserve` ...); this
does the same for the registry's API port, only when the plan restricts that pod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from infra.kubeflow import InstallPlan, Manifest

SERVICE = ("kubeflow", "model-registry-service")
POLICY_NAME = "model-registry-apiserver-proxy"


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions In/Exists) selects `labels`."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        if operator == "In" and labels.get(key) not in expression.get("values", []):
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "NotIn" and labels.get(key) in expression.get("values", []):
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _find(manifests: Sequence[Manifest], kind: str, namespace: str, name: str) -> Manifest | None:
    for manifest in manifests:
        meta = manifest.get("metadata", {})
        if (manifest.get("kind"), meta.get("namespace"), meta.get("name")) == (
            kind,
            namespace,
            name,
        ):
            return manifest
    return None


def apiserver_proxy_policy(plan: InstallPlan) -> Manifest | None:
    """A NetworkPolicy letting the API server's proxy reach the registry API, if needed.

    None when the plan has no registry Service or no NetworkPolicy restricts its pods.
    """
    manifests = [o.manifest for o in plan.objects]
    namespace, name = SERVICE
    service = _find(manifests, "Service", namespace, name)
    if service is None:
        return None
    labels = dict(service["spec"].get("selector") or {})
    restricted = labels and any(
        m.get("kind") == "NetworkPolicy"
        and m["metadata"].get("namespace") == namespace
        and "Ingress" in (m["spec"].get("policyTypes") or ["Ingress"])
        and _selects(m["spec"].get("podSelector") or {}, labels)
        for m in manifests
    )
    if not restricted:
        return None
    ports = [
        {"port": p.get("targetPort", p["port"]), "protocol": p.get("protocol", "TCP")}
        for p in service["spec"].get("ports", [])
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": POLICY_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kfstack"},
        },
        "spec": {
            "podSelector": {"matchLabels": labels},
            "policyTypes": ["Ingress"],
            "ingress": [{"ports": ports}],
        },
    }
