"""How the Istio ingress gateway is reached, per cluster kind (pure).

The release ships the gateway as a ClusterIP Service (reached by port-forward). On
kind, the stack maps a host port to a fixed NodePort of the node container, so the
dashboard is on http://localhost:<gatewayHostPort> with no port-forward; other
clusters keep ClusterIP (exposing it publicly is a decision for the platform team).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.settings import KubeflowSettings

GATEWAY = ObjectKey("", "Service", "istio-system", "istio-ingressgateway")
# Fixed NodePort of the gateway's http2 port on kind; infra/cluster/kind.py maps it.
KIND_GATEWAY_NODE_PORT = 30080


def _as_node_port(manifest: dict[str, Any], node_port: int) -> dict[str, Any]:
    spec = dict(manifest.get("spec") or {})
    ports = []
    for port in spec.get("ports") or []:
        copied = dict(port)
        if copied.get("name") == "http2":
            copied["nodePort"] = node_port
        ports.append(copied)
    spec["ports"] = ports
    spec["type"] = "NodePort"
    return {**manifest, "spec": spec}


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Expose the ingress gateway the way the cluster kind reaches it."""
    return expose_gateway(objects, cluster_kind=settings.cluster_kind)


def expose_gateway(
    objects: Sequence[PlannedObject], *, cluster_kind: str
) -> tuple[PlannedObject, ...]:
    """On kind, make the ingress gateway a NodePort Service on KIND_GATEWAY_NODE_PORT."""
    if cluster_kind != "kind":
        return tuple(objects)
    return tuple(
        replace(obj, manifest=_as_node_port(obj.manifest, KIND_GATEWAY_NODE_PORT))
        if obj.key == GATEWAY
        else obj
        for obj in objects
    )
