"""How the Istio ingress gateway is reached, as the cluster kind says (pure).

The release ships the gateway as a ClusterIP Service (reached by port-forward). A kind
that maps a host port to a fixed NodePort (kind: the node container's port, so the
dashboard is on http://localhost:<gatewayHostPort> with no port-forward) sets
`gateway_node_port`; other clusters keep ClusterIP (exposing it publicly is a decision
for the platform team).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.settings import KubeflowSettings

GATEWAY = ObjectKey("", "Service", "istio-system", "istio-ingressgateway")


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
    return expose_gateway(objects, node_port=settings.gateway_node_port)


def expose_gateway(
    objects: Sequence[PlannedObject], *, node_port: int | None
) -> tuple[PlannedObject, ...]:
    """With a `node_port`, make the ingress gateway a NodePort Service on that port."""
    if node_port is None:
        return tuple(objects)
    return tuple(
        replace(obj, manifest=_as_node_port(obj.manifest, node_port)) if obj.key == GATEWAY else obj
        for obj in objects
    )
