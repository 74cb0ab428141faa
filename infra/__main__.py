"""The kfstack Pulumi program: config in, components built, outputs out.

The install plan is computed (and checked) before any resource is registered, so
a bad manifests source, an unknown component or a policy failure deploys nothing.
"""

from __future__ import annotations

import pulumi

from infra.components.cluster import Cluster, ClusterArgs
from infra.components.kubeflow import KubeflowPlatform, KubeflowPlatformArgs
from infra.config import kubeflow_settings, load_stack_config
from infra.kubeflow.core import build_plan
from infra.kubeflow import gate

config = load_stack_config()
settings = config.settings
plan = gate.require_clean(build_plan(kubeflow_settings(settings, base=config.project_dir)))

cluster = Cluster(
    "cluster",
    ClusterArgs(config=settings.cluster, name=settings.cluster_name, project_dir=config.project_dir),
)
platform = KubeflowPlatform(
    "kubeflow",
    KubeflowPlatformArgs(
        plan=plan,
        provider=cluster.provider,
        secrets=config.secrets,
        protect_data=settings.kubeflow.protect_data,
    ),
)

pulumi.export("clusterName", cluster.facts.name)
pulumi.export("clusterKind", cluster.facts.kind)
pulumi.export("kubernetesVersion", cluster.facts.kubernetes_version)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("endpoint", cluster.endpoint)
pulumi.export("kubeflowRelease", plan.release)
pulumi.export("kubeflowComponents", list(plan.components))
pulumi.export("kubeflowObjects", len(plan.objects))
pulumi.export("users", [user.email for user in settings.kubeflow.users])
pulumi.export("credentials", platform.credentials)
