"""What every cluster kind shares: its config's common fields, and what it returns.

A kind's config model derives from `ClusterBase` (the fields every kind has) and adds its
own; `provision` on it makes the cluster and returns a `ClusterHandle` (a Kubernetes
provider plus the cluster's facts). Pulumi is imported only where a resource is made, so
that config validation, which reads the kinds' models, never imports it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field

from infra.config_types import ConfigModel, DnsLabel
from infra.kubeconfig import server_of

if TYPE_CHECKING:
    import pulumi
    import pulumi_kubernetes as k8s

# Kubeflow's pods watch many files: a node that shares the host kernel (kind, minikube with
# the docker driver) needs the host's inotify limits raised (Kubeflow's own kind guide).
INOTIFY = {"fs.inotify.max_user_instances": 2280, "fs.inotify.max_user_watches": 1255360}


@dataclass(frozen=True)
class Extra:
    """The optional dependencies (a pyproject extra) a kind's cloud SDK comes from.

    Attributes:
        name: the extra (`uv sync --extra <name>`); the `cloud` group holds them all.
        requirements: its requirement strings, as pyproject.toml lists them.

    """

    name: str
    requirements: tuple[str, ...]

    def load(self, module: str) -> ModuleType:
        """Import `module` of this extra, or fail naming the extra to install.

        Raises:
            MissingExtraError: the module is not installed.

        """
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            raise MissingExtraError(
                f"this stack's cluster needs the '{self.name}' extra ({module} is not "
                f"installed): run `uv sync --extra {self.name}` "
                f"(or `pip install 'kfstack[{self.name}]'`)"
            ) from exc


@dataclass(frozen=True)
class ClusterContext:
    """What a kind needs of the stack besides its own config (plain values).

    Attributes:
        name: the cluster's name (configured, or kfstack-<stack>).
        project_dir: where relative paths of the config resolve (a kubeconfig path).
        protect_data: `kubeflow.protectData`: volumes outlive their claims (prod).

    """

    name: str
    project_dir: Path
    protect_data: bool = False


class ClusterBase(ConfigModel):
    """`kfstack:cluster`: the fields every kind has; a kind's model adds its own.

    Class attributes a kind may set (facts of the kind, not config):
        EXTRA: the pyproject extra its cloud SDK comes from; None when it needs none.
        GATEWAY_NODE_PORT: the NodePort the Istio ingress gateway gets, when the kind
            maps a host port to it (kind); None keeps the release's ClusterIP.
        OVERLAYS_OF: the kind whose overlays the release tables name for this one
            (`options.cluster_kind`); None: its own name.
    """

    EXTRA: ClassVar[Extra | None] = None
    GATEWAY_NODE_PORT: ClassVar[int | None] = None
    OVERLAYS_OF: ClassVar[str | None] = None

    kind: str
    name: DnsLabel | None = Field(
        default=None, description="Cluster name; kfstack-<stack> if unset."
    )
    kubernetes_version: str = Field(default="1.34", pattern=r"^1\.\d+$")
    node_count: int = Field(default=1, ge=1, le=100)
    adopt_existing: bool = Field(
        default=False,
        description="Adopt objects already in the cluster (a Kubeflow installed by hand) "
        "instead of failing with AlreadyExists.",
    )

    @property
    def overlay_kind(self) -> str:
        """The cluster kind the release tables' overlays are chosen by."""
        return self.OVERLAYS_OF or self.kind

    def file_problems(self, base: Path) -> list[str]:
        """Problems of files this config names, read against `base` (before `pulumi up`).

        Each line starts with its key path (`kfstack:cluster.kubeconfig: ...`).
        """
        del base
        return []

    def provision(self, context: ClusterContext, opts: pulumi.ResourceOptions) -> ClusterHandle:
        """Make (or adopt) the cluster; its resources are children per `opts`."""
        raise NotImplementedError(f"cluster kind {self.kind!r} has no provision step")


# A node's disk size in GB, within the bounds every kind with a disk accepts.
DiskSizeGb = Annotated[int, Field(ge=20, le=16384)]


@dataclass(frozen=True)
class Capabilities:
    """What a cluster makes on its own when an object asks for it (a fact of its kind).

    Attributes:
        load_balancers: a Service of type LoadBalancer gets an address.
        storage: a PersistentVolumeClaim without a class gets a volume (a default class).

    """

    load_balancers: bool
    storage: bool


@dataclass(frozen=True)
class ClusterFacts:
    """Plain facts about a cluster that later components decide on."""

    kind: str
    name: str
    kubernetes_version: str
    capabilities: Capabilities


@dataclass(frozen=True)
class ClusterHandle:
    """A provisioned (or adopted) cluster: its provider, facts and kubeconfig (secret)."""

    provider: k8s.Provider
    facts: ClusterFacts
    kubeconfig: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    dashboard_url: str | None = None


class CloudCluster(ClusterBase):
    """A cluster a cloud makes in a region: a node pool of `nodeType` machines.

    Kubeflow `full` needs ~16 GB RAM and 8 cores in all. The cloud provisions load
    balancers, and the kind makes (or the cloud ships) a default StorageClass.
    """

    CAPABILITIES: ClassVar[Capabilities] = Capabilities(load_balancers=True, storage=True)

    region: str = Field(min_length=1)
    disk_size_gb: DiskSizeGb = 100


PORT_FORWARD_HINT = (
    "kubectl -n istio-system port-forward svc/istio-ingressgateway 8080:80, "
    "then http://localhost:8080"
)


class MissingExtraError(ImportError):
    """A cloud SDK the stack needs is not installed."""


def child_opts(opts: pulumi.ResourceOptions, **options: Any) -> pulumi.ResourceOptions:
    """The options of a kind module's child resource: `opts` (its parent) plus `options`."""
    import pulumi

    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(**options))


def local_cluster_command(
    resource_name: str,
    *,
    create: str,
    delete: str,
    environment: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[pulumi.Resource, pulumi.Output[str]]:
    """The bash step that makes a local cluster, and the kubeconfig it prints (secret).

    A change of the step or its environment replaces the cluster (the old one deleted
    first: a local cluster's name is taken until then).
    """
    import pulumi
    import pulumi_command as command

    created = command.local.Command(
        resource_name,
        create=create,
        delete=delete,
        environment=environment,
        interpreter=["/bin/bash", "-c"],
        opts=child_opts(
            opts,
            additional_secret_outputs=["stdout"],
            replace_on_changes=["environment", "create"],
            delete_before_replace=True,
        ),
    )
    return created, pulumi.Output.secret(created.stdout)


def k8s_provider(
    name: str,
    *,
    kubeconfig: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    depends_on: list[pulumi.Resource] | None = None,
    context: str | None = None,
    adopt_existing: bool = False,
) -> k8s.Provider:
    """The provider every Kubernetes resource of the stack uses.

    Server-side apply is the provider's default and is needed: five CRDs of the
    release are over 256 KB (FACTS.md). With `adopt_existing`, objects already in the
    cluster are adopted (upsert) instead of failing with AlreadyExists, and applied with
    force (`enablePatchForce`, the provider-wide `pulumi.com/patchForce`): the fields the
    earlier installer (kubectl apply) manages would otherwise be SSA conflicts.
    """
    import pulumi_kubernetes as k8s

    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        context=context,
        enable_server_side_apply=True,
        upsert_existing_objects=adopt_existing,
        enable_patch_force=adopt_existing,
        opts=child_opts(opts, depends_on=depends_on or []),
    )


def cluster_handle(
    cluster: ClusterBase,
    name: str,
    kubeconfig: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
    capabilities: Capabilities,
    *,
    depends_on: list[pulumi.Resource] | None = None,
    context: str | None = None,
    endpoint: pulumi.Output[str] | None = None,
    dashboard_url: str | None = None,
) -> ClusterHandle:
    """The cluster's provider (a resource named after its kind) and its facts.

    What every kind module returns last: `kubeconfig` is the (secret) kubeconfig the
    provider uses, `depends_on` what must exist before it (the cluster, its nodes), and
    `endpoint` the API server URL, by default the server of the kubeconfig, and
    `capabilities` what the kind makes on its own (each kind module's `CAPABILITIES`).
    """
    provider = k8s_provider(
        cluster.kind,
        kubeconfig=kubeconfig,
        opts=opts,
        depends_on=depends_on,
        context=context,
        adopt_existing=cluster.adopt_existing,
    )
    facts = ClusterFacts(
        kind=cluster.kind,
        name=name,
        kubernetes_version=cluster.kubernetes_version,
        capabilities=capabilities,
    )
    if endpoint is None:
        endpoint = kubeconfig.apply(lambda content: server_of(content, context=context))
    return ClusterHandle(provider, facts, kubeconfig, endpoint, dashboard_url)
