"""A cluster kind that exists only in tests: what a new kind module needs, and no more.

`tests/stack/test_cluster_kinds.py` lists it in `infra.cluster.kinds.KINDS` (the one
table line) and runs the program with `kfstack:cluster.kind: fake`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.cluster.base import Capabilities, ClusterHandle, cluster_handle
from tests.stack.harness import FAKE_KUBECONFIG

if TYPE_CHECKING:
    import pulumi

    from infra.config import StackConfig
    from infra.config_model import ClusterConfig

FIELDS: frozenset[str] = frozenset()
GATEWAY_NODE_PORT: int | None = 31999


def problems(cluster: ClusterConfig, *, base: Path | None) -> list[str]:
    """A fake cluster has one node."""
    del base
    return [] if cluster.node_count == 1 else ["a fake cluster has one node (nodeCount: 1)"]


def provision(config: StackConfig, name: str, opts: pulumi.ResourceOptions) -> ClusterHandle:
    """A provider for a cluster that someone else made; nothing else."""
    import pulumi

    kubeconfig = pulumi.Output.secret(FAKE_KUBECONFIG)
    endpoint = pulumi.Output.from_input("https://fake.invalid")
    capabilities = Capabilities(load_balancers=False, storage=False)
    return cluster_handle(
        config.settings.cluster, name, kubeconfig, opts, capabilities, endpoint=endpoint
    )
