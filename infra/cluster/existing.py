"""Any existing cluster given by kubeconfig (path or content) and context.

Covers Rancher, on-prem and clusters made elsewhere. Nothing is created but the
provider; the cluster's facts come from stack config.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from infra.cluster.base import (
    Capabilities,
    ClusterBase,
    ClusterContext,
    ClusterHandle,
    cluster_handle,
)
from infra.kubeconfig import KubeconfigError, read_stack_kubeconfig, server_of

if TYPE_CHECKING:
    import pulumi


class ExistingCluster(ClusterBase):
    """A cluster made elsewhere, used through its kubeconfig."""

    kind: Literal["existing"] = "existing"
    # A kubeconfig's content may be set as a secret (`pulumi config set --secret --path`).
    kubeconfig: str = Field(description="a path or the content", json_schema_extra={"secret": True})
    context: str | None = None
    # What an adopted cluster can make is only known to its owner: stack config says.
    can_provision_load_balancers: bool = False
    can_provision_storage: bool = True

    def file_problems(self, base: Path) -> list[str]:
        """The kubeconfig must read and hold the context."""
        try:
            read_stack_kubeconfig(self.kubeconfig, context=self.context, base=base)
        except KubeconfigError as exc:
            return [str(exc)]
        return []

    def provision(self, context: ClusterContext, opts: pulumi.ResourceOptions) -> ClusterHandle:
        """Adopt an existing cluster: a provider from its kubeconfig."""
        import pulumi

        content = read_stack_kubeconfig(
            self.kubeconfig, context=self.context, base=context.project_dir
        )
        kubeconfig = pulumi.Output.secret(content)
        capabilities = Capabilities(
            load_balancers=self.can_provision_load_balancers, storage=self.can_provision_storage
        )
        endpoint = pulumi.Output.from_input(server_of(content, context=self.context))
        return cluster_handle(
            self,
            context.name,
            kubeconfig,
            opts,
            capabilities,
            context=self.context,
            endpoint=endpoint,
        )


CONFIG = ExistingCluster
