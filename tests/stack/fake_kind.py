"""A cluster kind that exists only in tests: what a new kind module needs, and no more.

`tests/stack/test_cluster_kinds.py` lists it in `infra.cluster.kinds.KINDS` (the one
table line) and runs the program with `kfstack:cluster.kind: fake`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, Self

from pydantic import model_validator

from infra.cluster import base
from tests.stack.harness import FAKE_KUBECONFIG

if TYPE_CHECKING:
    import pulumi


class FakeCluster(base.ClusterBase):
    """A provider for a cluster that someone else made; nothing else."""

    GATEWAY_NODE_PORT: ClassVar[int | None] = 31999

    kind: Literal["fake"] = "fake"

    @model_validator(mode="after")
    def _one_node(self) -> Self:
        if self.node_count != 1:
            raise ValueError("a fake cluster has one node (nodeCount: 1)")
        return self

    def provision(
        self, context: base.ClusterContext, opts: pulumi.ResourceOptions
    ) -> base.ClusterHandle:
        """A provider for the fake cluster's kubeconfig."""
        import pulumi

        kubeconfig = pulumi.Output.secret(FAKE_KUBECONFIG)
        endpoint = pulumi.Output.from_input("https://fake.invalid")
        capabilities = base.Capabilities(load_balancers=False, storage=False)
        return base.cluster_handle(
            self, context.name, kubeconfig, opts, capabilities, endpoint=endpoint
        )


CONFIG = FakeCluster
