"""The Cluster component: makes (or adopts) the stack's cluster, one module per kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from infra.cluster.base import PORT_FORWARD_HINT, ClusterFacts, ClusterHandle
from infra.config_model import ClusterConfig


@dataclass(frozen=True)
class ClusterArgs:
    """What the Cluster component needs: the cluster config and its resolved name."""

    config: ClusterConfig
    name: str
    project_dir: Path
    retain_volumes: bool = False  # kubeflow.protectData: storage classes reclaim with Retain


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
        self.handle = _provision(args, parent=self)
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


def _provision(args: ClusterArgs, *, parent: pulumi.Resource) -> ClusterHandle:
    # Cloud modules import their SDK (an optional extra) only when chosen.
    kind = args.config.kind
    if kind == "kind":
        from infra.cluster import kind as module

        return module.provision(args.config, name=args.name, parent=parent)
    if kind == "existing":
        from infra.cluster import existing

        return existing.provision(args.config, name=args.name, parent=parent, base=args.project_dir)
    if kind == "eks":
        from infra.cluster import eks

        return eks.provision(
            args.config, name=args.name, parent=parent, retain_volumes=args.retain_volumes
        )
    from infra.cluster import gke

    return gke.provision(args.config, name=args.name, parent=parent)
