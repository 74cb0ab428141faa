"""A GKE cluster and node pool (pulumi-gcp); the kubeconfig is built from its outputs.

The cloud SDK is the optional `gke` extra, imported only when a stack uses GKE.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from infra.cluster.base import Capabilities, ClusterHandle, child_opts, cluster_handle, import_extra

if TYPE_CHECKING:
    import pulumi

    from infra.config import StackConfig
    from infra.config_model import ClusterConfig

FIELDS: frozenset[str] = frozenset({"region", "project", "zone"})
GATEWAY_NODE_PORT: int | None = None
# Kubeflow `full` needs ~16 GB RAM and 8 cores in all.
DEFAULT_NODE_TYPE = "e2-standard-8"
# GCP load balancers; standard-rwo (PD CSI) is the default class.
CAPABILITIES = Capabilities(load_balancers=True, storage=True)
OAUTH_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def problems(cluster: ClusterConfig, *, base: Path | None) -> list[str]:
    """GKE needs the region and the GCP project."""
    del base
    found = [] if cluster.region else ["region is required when kind is 'gke'"]
    if not cluster.project:
        found.append("project (the GCP project id) is required when kind is 'gke'")
    return found


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


def provision(config: StackConfig, name: str, opts: pulumi.ResourceOptions) -> ClusterHandle:
    """Create the GKE cluster (default pool removed) and a node pool of its own."""
    import pulumi

    cluster = config.settings.cluster
    gcp = import_extra("pulumi_gcp", "gke")
    gcp_provider = gcp.Provider(
        "gcp", project=cluster.project, region=cluster.region, opts=child_opts(opts)
    )
    gcp_opts = child_opts(opts, provider=gcp_provider)
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
        opts=gcp_opts,
    )
    node_pool = gcp.container.NodePool(
        "nodes",
        cluster=gke_cluster.name,
        location=location,
        node_count=cluster.node_count,  # nodes follow the control plane's version
        node_config={
            "machine_type": cluster.node_type or DEFAULT_NODE_TYPE,
            "disk_size_gb": cluster.disk_size_gb,
            "oauth_scopes": list(OAUTH_SCOPES),
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        },
        management={"auto_repair": True, "auto_upgrade": False},
        opts=gcp_opts,
    )
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.all(gke_cluster.endpoint, gke_cluster.master_auth).apply(
            lambda a: gke_kubeconfig(
                name=name, endpoint=a[0], ca_certificate=a[1]["cluster_ca_certificate"]
            )
        )
    )
    endpoint = gke_cluster.endpoint.apply(lambda e: f"https://{e}")
    return cluster_handle(
        cluster, name, kubeconfig, opts, CAPABILITIES, depends_on=[node_pool], endpoint=endpoint
    )
