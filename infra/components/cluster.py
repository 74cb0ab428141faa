"""The Cluster component: makes (or adopts) the stack's cluster, one module per kind.

The stack's `kfstack:cluster` is already the config model of its kind (the table in
`infra/cluster/kinds.py`), which provisions it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.cluster.base import PORT_FORWARD_HINT, ClusterFacts, ClusterHandle
from infra.config import StackConfig


@dataclass(frozen=True)
class ClusterArgs:
    """What the Cluster component needs: the validated stack config.

    Its `cluster` settings pick the kind and size; the kind may read more of it
    (EKS: `kubeflow.protectData` makes storage classes reclaim with Retain).
    """

    config: StackConfig


class Cluster(pulumi.ComponentResource):
    """A Kubernetes cluster of any supported kind, exposed as one provider plus facts."""

    handle: ClusterHandle
    facts: ClusterFacts
    kubeconfig: pulumi.Output[str]
    endpoint: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kfstack:cluster:Cluster", name, {}, opts)
        config = args.config
        self.handle = config.settings.cluster.provision(
            config.cluster_context(), pulumi.ResourceOptions(parent=self)
        )
        self.facts = self.handle.facts
        self.provider = self.handle.provider
        self.kubeconfig = self.handle.kubeconfig
        self.endpoint = self.handle.endpoint
        self.dashboard_url = self.handle.dashboard_url or PORT_FORWARD_HINT
        self.register_outputs(
            {
                "name": self.facts.name,
                "kind": self.facts.kind,
                "kubernetesVersion": self.facts.kubernetes_version,
                "kubeconfig": self.kubeconfig,
                "endpoint": self.endpoint,
                "dashboardUrl": self.dashboard_url,
            }
        )
