"""A local kind cluster, created and deleted by the stack (pulumi-command).

Kubeflow needs raised inotify limits on the node (a kind node shares the host
kernel) and the API server settings of its m2m-dex-and-kind overlay; the Istio
gateway's NodePort is mapped to a host port so the dashboard is on localhost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import yaml
from pydantic import Field, model_validator

from infra.cluster.base import (
    INOTIFY,
    Capabilities,
    ClusterBase,
    ClusterContext,
    ClusterHandle,
    cluster_handle,
    local_cluster_command,
)

if TYPE_CHECKING:
    import pulumi

# kindest/node images per Kubernetes minor, pinned by digest as the kind release notes
# list them (v0.30.0: 1.32-1.34; v0.31.0: 1.35): a tag can be re-pushed, a digest cannot.
NODE_IMAGES: dict[str, str] = {
    "1.32": "kindest/node:v1.32.8"
    "@sha256:abd489f042d2b644e2d033f5c2d900bc707798d075e8186cb65e3f1367a9d5a1",
    "1.33": "kindest/node:v1.33.4"
    "@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2",
    "1.34": "kindest/node:v1.34.0"
    "@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a",
    "1.35": "kindest/node:v1.35.0"
    "@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f",
}
# The NodePort the platform gives the Istio ingress gateway; the control plane maps
# `gatewayHostPort` on localhost to it.
NODE_PORT = 30080
# No load balancer; kind ships local-path-provisioner as the default class.
CAPABILITIES = Capabilities(load_balancers=False, storage=True)
MAX_NODES = 3

_API_SERVER_PATCH = """\
kind: ClusterConfiguration
apiServer:
  extraArgs:
    service-account-issuer: https://kubernetes.default.svc
    service-account-signing-key-file: /etc/kubernetes/pki/sa.key
"""


class KindCluster(ClusterBase):
    """A local kind cluster (Docker), created and deleted by the stack."""

    GATEWAY_NODE_PORT: ClassVar[int | None] = NODE_PORT

    kind: Literal["kind"] = "kind"
    gateway_host_port: int = Field(
        default=8080, ge=1, le=65535, description="localhost port of the Istio gateway"
    )

    @model_validator(mode="after")
    def _nodes(self) -> Self:
        if self.node_count > MAX_NODES:
            raise ValueError(
                f"a local kind cluster has at most {MAX_NODES} nodes (nodeCount <= {MAX_NODES})"
            )
        return self

    def provision(self, context: ClusterContext, opts: pulumi.ResourceOptions) -> ClusterHandle:
        """Create the kind cluster and its provider."""
        name = context.name
        config_yaml = yaml.safe_dump(kind_cluster_config(self, name=name), sort_keys=True)
        created, kubeconfig = local_cluster_command(
            "kind-cluster",
            create=create_script(),
            delete='kind delete cluster --name "$CLUSTER"',
            environment={"CLUSTER": name, "KIND_CONFIG": config_yaml},
            opts=opts,
        )
        dashboard_url = f"http://localhost:{self.gateway_host_port}"
        return cluster_handle(
            self,
            name,
            kubeconfig,
            opts,
            CAPABILITIES,
            depends_on=[created],
            dashboard_url=dashboard_url,
        )


CONFIG = KindCluster


def kind_cluster_config(cluster: KindCluster, *, name: str) -> dict[str, Any]:
    """The kind `Cluster` config for this stack (pure)."""
    image = NODE_IMAGES[cluster.kubernetes_version]
    control_plane: dict[str, Any] = {
        "role": "control-plane",
        "image": image,
        "kubeadmConfigPatches": [_API_SERVER_PATCH],
        "extraPortMappings": [
            {
                "containerPort": NODE_PORT,
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
    """The create step: preflight, create, raise inotify limits, print the kubeconfig.

    Idempotent in the sense a user needs: a kind cluster of that name that already exists
    (made by hand, or left by an interrupted `pulumi up` whose state never recorded it) is
    reported, never silently adopted (the stack's delete step would later remove it); a
    create that fails part-way (kind itself, the sysctls, the kubeconfig) deletes the
    half-made cluster before failing. The sysctls are written from the privileged node
    container into the host kernel: they raise the host's inotify limits (README).
    """
    sysctls = " ".join(f"{k}={v}" for k, v in INOTIFY.items())
    return "\n".join(
        [
            "set -euo pipefail",
            "for tool in docker kind; do command -v $tool >/dev/null || "
            '{ echo "kfstack dev needs $tool on PATH (see README prerequisites)" >&2; exit 1; }; '
            "done",
            'if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then',
            '  echo "a kind cluster named $CLUSTER already exists and this stack has no record'
            " of it: delete it (kind delete cluster --name $CLUSTER), or set"
            " kfstack:cluster.name to another name, or use it with kind: existing"
            ' (kind get kubeconfig --name $CLUSTER)" >&2',
            "  exit 1",
            "fi",
            "created=0",
            'cleanup() { if [ "$created" != done ]; then'
            ' echo "kfstack: cluster creation failed; deleting the half-made cluster $CLUSTER" >&2;'
            ' kind delete cluster --name "$CLUSTER" >&2 || true; fi; }',
            "trap cleanup EXIT",
            'printf "%s" "$KIND_CONFIG" | kind create cluster --name "$CLUSTER" '
            "--config - --wait 180s >&2",
            'for node in $(kind get nodes --name "$CLUSTER"); do',
            f'  docker exec "$node" sysctl -w {sysctls} >&2',
            "done",
            'kubeconfig="$(kind get kubeconfig --name "$CLUSTER")"',
            "created=done",
            'printf "%s\\n" "$kubeconfig"',
        ]
    )
