"""The component table of Kubeflow v1.10 (data): the 26.03 table where 1.10 differs.

What differs (read from the v1.10.2 manifests): cert-manager is `base` plus
`kubeflow-issuer` (one overlay in 26.03), pipelines install from their cert-manager
env with MinIO as object store (26.03: `applications/pipeline/overlays`, SeaweedFS),
the Training Operator v1 instead of Trainer v2, and the example adds NetworkPolicies.
Known: v1.10.2's own `common/istio/istio-install/overlays/gke` does not build (it refers
to `../../oauth2-proxy`, which the release does not have); the option is kept, so a GKE
plan of v1.10.2 fails with kustomize's error rather than planning another overlay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from infra.kubeflow.catalogue.component import Component, options
from infra.kubeflow.catalogue.tables import kubeflow_2603 as base
from infra.kubeflow.objects import ObjectMatch

_BY_NAME = {c.name: c for c in base.COMPONENTS}
_PVC = ObjectMatch(kind="PersistentVolumeClaim", group="")
_PIPELINES_ENV = "applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user"

_CHANGED: Mapping[str, Component] = {
    "cert-manager": replace(
        _BY_NAME["cert-manager"],
        paths=("common/cert-manager/base", "common/cert-manager/kubeflow-issuer/base"),
    ),
    "pipelines": replace(
        _BY_NAME["pipelines"],
        description="Kubeflow Pipelines, multi-user, MinIO object store, Argo Workflows",
        paths=(_PIPELINES_ENV,),
        options=options(pipeline_definitions={"kubernetes": (f"{_PIPELINES_ENV}-k8s-native",)}),
        edges=base.store_edges(("mysql", "minio")),
        data=(_PVC, base.deploy("kubeflow", "mysql"), base.deploy("kubeflow", "minio")),
    ),
}
_TRAINING_OPERATOR = Component(
    "training-operator",
    "Kubeflow Training Operator (v1)",
    ("applications/training-operator/upstream/overlays/kubeflow",),
    needs=("kubeflow-namespace", "kubeflow-roles"),
)
_NETWORK_POLICIES = Component(
    "networkpolicies",
    "NetworkPolicies of the Kubeflow namespaces",
    ("common/networkpolicies/base",),
    needs=("kubeflow-namespace",),
)


def _components() -> tuple[Component, ...]:
    out: list[Component] = []
    for component in base.COMPONENTS:
        if component.name == "trainer":
            out.append(_TRAINING_OPERATOR)
        else:
            out.append(_CHANGED.get(component.name, component))
        if component.name == "kubeflow-namespace":
            out.append(_NETWORK_POLICIES)
    return tuple(out)


COMPONENTS: tuple[Component, ...] = _components()
PRESETS: Mapping[str, tuple[str, ...]] = MappingProxyType(dict(base.PRESETS))
