"""What every cluster module returns: a Kubernetes provider plus the cluster's facts."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import pulumi
import pulumi_kubernetes as k8s

from infra.safe_yaml import load_one


@dataclass(frozen=True)
class ClusterFacts:
    """Plain facts about a cluster that later components decide on."""

    kind: str
    name: str
    kubernetes_version: str
    can_provision_load_balancers: bool
    can_provision_storage: bool


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


def server_of_kubeconfig(kubeconfig: str, *, context: str | None = None) -> str:
    """The API server URL of a kubeconfig's context (YAML or JSON).

    `context` defaults to the current-context; a kubeconfig with neither names its
    only cluster.
    """
    document = load_one(kubeconfig, source="kubeconfig", secret=True)
    wanted = context or document.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in document.get("contexts") or []}
    clusters = {c.get("name"): c.get("cluster") or {} for c in document["clusters"]}
    cluster_name = contexts.get(wanted, {}).get("cluster")
    cluster = clusters.get(cluster_name) or document["clusters"][0]["cluster"]
    return str(cluster.get("server", ""))


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


def k8s_provider(
    name: str,
    *,
    kubeconfig: pulumi.Input[str],
    parent: pulumi.Resource,
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
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        context=context,
        enable_server_side_apply=True,
        upsert_existing_objects=adopt_existing,
        enable_patch_force=adopt_existing,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )
