"""A GKE cluster and node pool (pulumi-gcp); the kubeconfig is built from its outputs.

The cloud SDK is the optional `gke` extra, imported only when a stack uses GKE.
"""

from __future__ import annotations

import pulumi
import yaml

from infra.cluster.base import ClusterFacts, ClusterHandle, import_extra, k8s_provider
from infra.config_model import ClusterConfig

OAUTH_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def gke_kubeconfig(*, name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig for a GKE cluster, authenticating with gke-gcloud-auth-plugin."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": f"https://{endpoint}",
                    "certificate-authority-data": ca_certificate,
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "gke-gcloud-auth-plugin",
                        "provideClusterInfo": True,
                        "installHint": "Install gke-gcloud-auth-plugin: "
                        "gcloud components install gke-gcloud-auth-plugin",
                    }
                },
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=True)


def provision(cluster: ClusterConfig, *, name: str, parent: pulumi.Resource) -> ClusterHandle:
    """Create the GKE cluster (default pool removed) and a node pool of its own."""
    gcp = import_extra("pulumi_gcp", "gke")
    gcp_provider = gcp.Provider(
        "gcp",
        project=cluster.project,
        region=cluster.region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    opts = pulumi.ResourceOptions(parent=parent, provider=gcp_provider)
    location = cluster.zone or cluster.region
    gke_cluster = gcp.container.Cluster(
        "gke",
        name=name,
        location=location,
        min_master_version=cluster.kubernetes_version,
        remove_default_node_pool=True,
        initial_node_count=1,
        deletion_protection=False,
        release_channel={"channel": "UNSPECIFIED"},
        workload_identity_config={"workload_pool": f"{cluster.project}.svc.id.goog"},
        opts=opts,
    )
    node_pool = gcp.container.NodePool(
        "nodes",
        cluster=gke_cluster.name,
        location=location,
        node_count=cluster.node_count,  # nodes follow the control plane's version
        node_config={
            "machine_type": cluster.resolved_node_type(),
            "disk_size_gb": cluster.disk_size_gb,
            "oauth_scopes": list(OAUTH_SCOPES),
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        },
        management={"auto_repair": True, "auto_upgrade": False},
        opts=opts,
    )
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.all(gke_cluster.endpoint, gke_cluster.master_auth).apply(
            lambda a: gke_kubeconfig(
                name=name, endpoint=a[0], ca_certificate=a[1]["cluster_ca_certificate"]
            )
        )
    )
    provider = k8s_provider(
        "gke",
        kubeconfig=kubeconfig,
        parent=parent,
        adopt_existing=cluster.adopt_existing,
        depends_on=[node_pool],
    )
    facts = ClusterFacts(
        kind="gke",
        name=name,
        kubernetes_version=cluster.kubernetes_version,
        can_provision_load_balancers=True,
        can_provision_storage=True,  # standard-rwo (PD CSI) is the default class
    )
    endpoint = gke_cluster.endpoint.apply(lambda e: f"https://{e}")
    return ClusterHandle(provider=provider, facts=facts, kubeconfig=kubeconfig, endpoint=endpoint)
