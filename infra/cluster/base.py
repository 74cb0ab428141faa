"""What every cluster module returns: a Kubernetes provider plus the cluster's facts.

Pulumi is imported only where a resource is made, so that a kind module (and config
validation, which reads the kinds' checks) can be imported without it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from infra.kubeconfig import server_of

if TYPE_CHECKING:
    import pulumi
    import pulumi_kubernetes as k8s

    from infra.config_model import ClusterConfig


@dataclass(frozen=True)
class Capabilities:
    """What a cluster makes on its own when an object asks for it (a fact of its kind).

    Attributes:
        load_balancers: a Service of type LoadBalancer gets an address.
        storage: a PersistentVolumeClaim without a class gets a volume (a default class).

    """

    load_balancers: bool
    storage: bool


@dataclass(frozen=True)
class ClusterFacts:
    """Plain facts about a cluster that later components decide on."""

    kind: str
    name: str
    kubernetes_version: str
    capabilities: Capabilities


@dataclass(frozen=True)
class ClusterHandle:
    """A provisioned (or adopted) cluster: its provider, facts and kubeconfig (secret)."""

    provider: k8s.Provider
    facts: ClusterFacts
    kubeconfig: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    dashboard_url: str | None = None


PORT_FORWARD_HINT = (
    "kubectl -n istio-system port-forward svc/istio-ingressgateway 8080:80, "
    "then http://localhost:8080"
)


class MissingExtraError(ImportError):
    """A cloud SDK the stack needs is not installed."""


def import_extra(module: str, extra: str) -> ModuleType:
    """Import a cloud SDK of an optional extra, or fail naming the extra to install.

    Raises:
        MissingExtraError: the module is not installed.

    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"this stack's cluster needs the '{extra}' extra ({module} is not installed): "
            f"run `uv sync --extra {extra}` (or `pip install 'kfstack[{extra}]'`)"
        ) from exc


def child_opts(opts: pulumi.ResourceOptions, **options: Any) -> pulumi.ResourceOptions:
    """The options of a kind module's child resource: `opts` (its parent) plus `options`."""
    import pulumi

    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(**options))


def k8s_provider(
    name: str,
    *,
    kubeconfig: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    depends_on: list[pulumi.Resource] | None = None,
    context: str | None = None,
    adopt_existing: bool = False,
) -> k8s.Provider:
    """The provider every Kubernetes resource of the stack uses.

    Server-side apply is the provider's default and is needed: five CRDs of the
    release are over 256 KB (FACTS.md). With `adopt_existing`, objects already in the
    cluster are adopted (upsert) instead of failing with AlreadyExists, and applied with
    force (`enablePatchForce`, the provider-wide `pulumi.com/patchForce`): the fields the
    earlier installer (kubectl apply) manages would otherwise be SSA conflicts.
    """
    import pulumi_kubernetes as k8s

    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        context=context,
        enable_server_side_apply=True,
        upsert_existing_objects=adopt_existing,
        enable_patch_force=adopt_existing,
        opts=child_opts(opts, depends_on=depends_on or []),
    )


def cluster_handle(
    cluster: ClusterConfig,
    name: str,
    kubeconfig: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
    capabilities: Capabilities,
    *,
    depends_on: list[pulumi.Resource] | None = None,
    context: str | None = None,
    endpoint: pulumi.Output[str] | None = None,
    dashboard_url: str | None = None,
) -> ClusterHandle:
    """The cluster's provider (a resource named after its kind) and its facts.

    What every kind module returns last: `kubeconfig` is the (secret) kubeconfig the
    provider uses, `depends_on` what must exist before it (the cluster, its nodes), and
    `endpoint` the API server URL, by default the server of the kubeconfig, and
    `capabilities` what the kind makes on its own (each kind module's `CAPABILITIES`).
    """
    provider = k8s_provider(
        cluster.kind,
        kubeconfig=kubeconfig,
        opts=opts,
        depends_on=depends_on,
        context=context,
        adopt_existing=cluster.adopt_existing,
    )
    facts = ClusterFacts(
        kind=cluster.kind,
        name=name,
        kubernetes_version=cluster.kubernetes_version,
        capabilities=capabilities,
    )
    if endpoint is None:
        endpoint = kubeconfig.apply(lambda content: server_of(content, context=context))
    return ClusterHandle(provider, facts, kubeconfig, endpoint, dashboard_url)
