"""The kfstack Pulumi program: config in, components built, outputs out."""

from __future__ import annotations

import pulumi

from infra.components.cluster import Cluster, ClusterArgs
from infra.config import load_stack_config

config = load_stack_config()
settings = config.settings

cluster = Cluster(
    "cluster",
    ClusterArgs(
        config=settings.cluster, name=settings.cluster_name, project_dir=config.project_dir
    ),
)

pulumi.export("clusterName", cluster.facts.name)
pulumi.export("clusterKind", cluster.facts.kind)
pulumi.export("kubernetesVersion", cluster.facts.kubernetes_version)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("endpoint", cluster.endpoint)
