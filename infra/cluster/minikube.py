"""A local minikube cluster, created and deleted by the stack (the `minikube` CLI).

The minikube profile is the cluster's name. Kubeflow needs a default StorageClass (the
`storage-provisioner` and `default-storageclass` addons) and raised inotify limits on each
node. Its API server issues service account tokens as the kubeadm default
`https://kubernetes.default.svc.cluster.local`, which the release's kind overlay of
oauth2-proxy (`m2m-dex-and-kind`) accepts: minikube takes kind's overlays.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from infra.cluster.base import (
    INOTIFY,
    Capabilities,
    ClusterBase,
    ClusterContext,
    ClusterHandle,
    DiskSizeGb,
    cluster_handle,
    local_cluster_command,
)

if TYPE_CHECKING:
    import pulumi

# The Kubernetes release minikube starts per minor (it wants a full version).
KUBERNETES_VERSIONS: dict[str, str] = {
    "1.32": "v1.32.8",
    "1.33": "v1.33.4",
    "1.34": "v1.34.0",
    "1.35": "v1.35.0",
}
# What Kubeflow needs of every minikube cluster: a default StorageClass that provisions.
REQUIRED_ADDONS = ("storage-provisioner", "default-storageclass")
# No load balancer (without `minikube tunnel`); the storage-provisioner addon's class.
CAPABILITIES = Capabilities(load_balancers=False, storage=True)
_ADDON = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

Driver = Literal["docker", "podman", "kvm2", "qemu2", "virtualbox", "hyperkit", "vfkit"]


class MinikubeCluster(ClusterBase):
    """A local minikube cluster (a driver of choice), created and deleted by the stack."""

    OVERLAYS_OF: ClassVar[str | None] = "kind"

    kind: Literal["minikube"] = "minikube"
    driver: Driver = "docker"
    cpus: int = Field(default=8, ge=2, le=128)
    memory_gb: int = Field(default=16, ge=4, le=1024)
    disk_size_gb: DiskSizeGb = 60
    addons: tuple[str, ...] = Field(
        default=(), description=f"added to {', '.join(REQUIRED_ADDONS)}"
    )

    @field_validator("addons")
    @classmethod
    def _addon_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [name for name in value if not _ADDON.match(name)]
        if bad:
            raise ValueError(f"not minikube addon names: {', '.join(map(repr, bad))}")
        return value

    @model_validator(mode="after")
    def _version(self) -> Self:
        if self.kubernetes_version not in KUBERNETES_VERSIONS:
            known = ", ".join(KUBERNETES_VERSIONS)
            raise ValueError(
                f"minikube has no pinned Kubernetes {self.kubernetes_version}; known: {known}"
            )
        return self

    def provision(self, context: ClusterContext, opts: pulumi.ResourceOptions) -> ClusterHandle:
        """Create the minikube cluster and its provider."""
        created, kubeconfig = local_cluster_command(
            "minikube-cluster",
            create=create_script(start_args(self)),
            delete='minikube delete --profile "$CLUSTER" >&2',
            environment={"CLUSTER": context.name},
            opts=opts,
        )
        return cluster_handle(
            self, context.name, kubeconfig, opts, CAPABILITIES, depends_on=[created]
        )


CONFIG = MinikubeCluster


def addons(cluster: MinikubeCluster) -> tuple[str, ...]:
    """The addons the cluster starts with: Kubeflow's needs, then the configured ones."""
    return (*REQUIRED_ADDONS, *(a for a in cluster.addons if a not in REQUIRED_ADDONS))


def start_args(cluster: MinikubeCluster) -> list[str]:
    """The arguments of `minikube start` after the profile (pure)."""
    flags = {
        "driver": cluster.driver,
        "cpus": cluster.cpus,
        "memory": f"{cluster.memory_gb}g",
        "disk-size": f"{cluster.disk_size_gb}g",
        "nodes": cluster.node_count,
        "kubernetes-version": KUBERNETES_VERSIONS[cluster.kubernetes_version],
        "addons": ",".join(addons(cluster)),
    }
    # Certificates embedded: the printed kubeconfig stands alone; all components waited for.
    return [*(f"--{flag}={value}" for flag, value in flags.items()), "--embed-certs", "--wait=all"]


def create_script(args: list[str]) -> str:
    """The create step: preflight, start, raise inotify limits, print the kubeconfig.

    As kind's: a profile of that name that already exists is reported, never adopted (the
    stack's delete step would later remove it); a start that fails part-way (minikube
    itself, the sysctls, the kubeconfig) deletes the half-made cluster before failing.
    minikube writes the cluster's context, certificates embedded, to a kubeconfig of its
    own, printed as the step's (secret) output.
    """
    sysctls = " ".join(f"{k}={v}" for k, v in INOTIFY.items())
    return "\n".join(
        [
            "set -euo pipefail",
            "command -v minikube >/dev/null || "
            '{ echo "this stack needs minikube on PATH (see README prerequisites)" >&2; exit 1; }',
            'profiles="$(minikube profile list --output json 2>/dev/null || true)"',
            'case "$profiles" in *"\\"Name\\":\\"$CLUSTER\\""*)',
            '  echo "a minikube profile named $CLUSTER already exists and this stack has no'
            " record of it: delete it (minikube delete --profile $CLUSTER), or set"
            ' kfstack:cluster.name to another name, or use it with kind: existing" >&2',
            "  exit 1 ;;",
            "esac",
            'workdir="$(mktemp -d)"',
            'export KUBECONFIG="$workdir/kubeconfig"',
            "created=0",
            'cleanup() { if [ "$created" != done ]; then'
            ' echo "kfstack: cluster creation failed; deleting the half-made cluster $CLUSTER" >&2;'
            ' minikube delete --profile "$CLUSTER" >&2 || true; fi; rm -rf "$workdir"; }',
            "trap cleanup EXIT",
            f'minikube start --profile "$CLUSTER" {shlex.join(args)} >&2',
            'for node in $(minikube node list --profile "$CLUSTER" | cut -f1); do',
            f'  minikube ssh --profile "$CLUSTER" --node "$node" -- sudo sysctl -w {sysctls} >&2',
            "done",
            'kubeconfig="$(cat "$KUBECONFIG")"',
            "created=done",
            'printf "%s\\n" "$kubeconfig"',
        ]
    )
