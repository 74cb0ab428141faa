"""Any existing cluster given by kubeconfig (path or content) and context.

Covers minikube, Rancher, on-prem and clusters made elsewhere. Nothing is created
but the provider; the cluster's facts come from stack config.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.cluster.base import Capabilities, ClusterHandle, cluster_handle
from infra.kubeconfig import KubeconfigError, read_stack_kubeconfig, server_of

if TYPE_CHECKING:
    import pulumi

    from infra.config import StackConfig
    from infra.config_model import ClusterConfig

FIELDS: frozenset[str] = frozenset({"kubeconfig", "context"})
GATEWAY_NODE_PORT: int | None = None


def problems(cluster: ClusterConfig, *, base: Path | None) -> list[str]:
    """The kubeconfig is required; with `base`, it must read and hold the context."""
    if not cluster.kubeconfig:
        return ["kubeconfig (a path or the content) is required when kind is 'existing'"]
    if base is None:
        return []
    try:
        read_stack_kubeconfig(cluster.kubeconfig, context=cluster.context, base=base)
    except KubeconfigError as exc:
        return [str(exc)]
    return []


def provision(config: StackConfig, name: str, opts: pulumi.ResourceOptions) -> ClusterHandle:
    """Adopt an existing cluster: a provider from its kubeconfig."""
    import pulumi

    cluster = config.settings.cluster
    content = read_stack_kubeconfig(
        cluster.kubeconfig or "", context=cluster.context, base=config.project_dir
    )
    kubeconfig = pulumi.Output.secret(content)
    # What an adopted cluster can make is only known to its owner: stack config says.
    capabilities = Capabilities(
        load_balancers=cluster.can_provision_load_balancers, storage=cluster.can_provision_storage
    )
    endpoint = pulumi.Output.from_input(server_of(content, context=cluster.context))
    return cluster_handle(
        cluster, name, kubeconfig, opts, capabilities, context=cluster.context, endpoint=endpoint
    )
