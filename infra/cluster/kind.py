"""A local kind cluster, created and deleted by the stack (pulumi-command).

Kubeflow needs raised inotify limits on the node (a kind node shares the host
kernel) and the API server settings of its m2m-dex-and-kind overlay; the Istio
gateway's NodePort is mapped to a host port so the dashboard is on localhost.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_command as command
import yaml

from infra.cluster.base import ClusterFacts, ClusterHandle, k8s_provider, server_of_kubeconfig
from infra.config_model import ClusterConfig
from infra.kubeflow import KIND_GATEWAY_NODE_PORT

# kindest/node images per Kubernetes minor (kind v0.30 release notes).
NODE_IMAGES: dict[str, str] = {
    "1.32": "kindest/node:v1.32.8",
    "1.33": "kindest/node:v1.33.4",
    "1.34": "kindest/node:v1.34.0",
    "1.35": "kindest/node:v1.35.0",
}
# The NodePort the platform gives the Istio ingress gateway on kind.
GATEWAY_NODE_PORT = KIND_GATEWAY_NODE_PORT
INOTIFY = {"fs.inotify.max_user_instances": 2280, "fs.inotify.max_user_watches": 1255360}

_API_SERVER_PATCH = """\
kind: ClusterConfiguration
apiServer:
  extraArgs:
    service-account-issuer: https://kubernetes.default.svc
    service-account-signing-key-file: /etc/kubernetes/pki/sa.key
"""


def kind_cluster_config(cluster: ClusterConfig, *, name: str) -> dict[str, Any]:
    """The kind `Cluster` config for this stack (pure)."""
    image = NODE_IMAGES[cluster.kubernetes_version]
    control_plane: dict[str, Any] = {
        "role": "control-plane",
        "image": image,
        "kubeadmConfigPatches": [_API_SERVER_PATCH],
        "extraPortMappings": [
            {
                "containerPort": GATEWAY_NODE_PORT,
                "hostPort": cluster.gateway_host_port,
                "listenAddress": "127.0.0.1",
                "protocol": "TCP",
            }
        ],
    }
    workers = [{"role": "worker", "image": image} for _ in range(cluster.node_count - 1)]
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": name,
        "nodes": [control_plane, *workers],
    }


def create_script() -> str:
    """The create step: preflight, create, raise inotify limits, print the kubeconfig."""
    sysctls = " ".join(f"{k}={v}" for k, v in INOTIFY.items())
    return "\n".join(
        [
            "set -euo pipefail",
            "for tool in docker kind; do command -v $tool >/dev/null || "
            '{ echo "kfstack dev needs $tool on PATH (see README prerequisites)" >&2; exit 1; }; '
            "done",
            'printf "%s" "$KIND_CONFIG" | kind create cluster --name "$CLUSTER" '
            "--config - --wait 180s >&2",
            'for node in $(kind get nodes --name "$CLUSTER"); do',
            f'  docker exec "$node" sysctl -w {sysctls} >&2',
            "done",
            'kind get kubeconfig --name "$CLUSTER"',
        ]
    )


def provision(cluster: ClusterConfig, *, name: str, parent: pulumi.Resource) -> ClusterHandle:
    """Create the kind cluster and its provider."""
    config_yaml = yaml.safe_dump(kind_cluster_config(cluster, name=name), sort_keys=True)
    created = command.local.Command(
        "kind-cluster",
        create=create_script(),
        delete='kind delete cluster --name "$CLUSTER"',
        environment={"CLUSTER": name, "KIND_CONFIG": config_yaml},
        interpreter=["/bin/bash", "-c"],
        opts=pulumi.ResourceOptions(
            parent=parent,
            additional_secret_outputs=["stdout"],
            replace_on_changes=["environment", "create"],
            delete_before_replace=True,
        ),
    )
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(created.stdout)
    provider = k8s_provider(
        "kind",
        kubeconfig=kubeconfig,
        parent=parent,
        adopt_existing=cluster.adopt_existing,
        depends_on=[created],
    )
    facts = ClusterFacts(
        kind="kind",
        name=name,
        kubernetes_version=cluster.kubernetes_version,
        can_provision_load_balancers=False,
        can_provision_storage=True,  # kind ships local-path-provisioner as default class
    )
    return ClusterHandle(
        provider=provider,
        facts=facts,
        kubeconfig=kubeconfig,
        endpoint=kubeconfig.apply(server_of_kubeconfig),
        dashboard_url=f"http://localhost:{cluster.gateway_host_port}",
    )
