"""A GKE cluster and node pool (pulumi-gcp); the kubeconfig is built from its outputs.

The cloud SDK is the optional `gke` extra, imported only when a stack uses GKE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import yaml
from pydantic import Field

from infra.cluster.base import CloudCluster, Extra, child_opts, cluster_handle

if TYPE_CHECKING:
    import pulumi

    from infra.cluster.base import ClusterContext, ClusterHandle

DEFAULT_NODE_TYPE = "e2-standard-8"
# standard-rwo (PD CSI) is GKE's default class (CloudCluster.CAPABILITIES).
OAUTH_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


# The cloud SDK, an optional extra: imported only when a stack uses GKE.
_EXTRA = Extra("gke", ("pulumi-gcp>=8,<10",))


class GkeCluster(CloudCluster):
    """A Google GKE cluster and its node pool, made by the stack."""

    EXTRA: ClassVar[Extra | None] = _EXTRA

    kind: Literal["gke"] = "gke"
    project: str = Field(min_length=1, description="the GCP project id")
    zone: str | None = Field(default=None, description="a zonal cluster; regional if unset")
    node_type: str = Field(default=DEFAULT_NODE_TYPE, min_length=1)

    def provision(self, context: ClusterContext, opts: pulumi.ResourceOptions) -> ClusterHandle:
        """Create the GKE cluster (default pool removed) and a node pool of its own."""
        return _provision(self, context, opts)


CONFIG = GkeCluster


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


def _provision(
    cluster: GkeCluster, context: ClusterContext, opts: pulumi.ResourceOptions
) -> ClusterHandle:
    import pulumi

    name = context.name
    gcp = _EXTRA.load("pulumi_gcp")
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
            "machine_type": cluster.node_type,
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
        cluster,
        name,
        kubeconfig,
        opts,
        cluster.CAPABILITIES,
        depends_on=[node_pool],
        endpoint=endpoint,
    )
