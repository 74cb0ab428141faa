"""What the stack asks of the Kubeflow platform, as plain frozen data.

`infra/config.py` builds a `KubeflowSettings` from validated stack config (under the
engine, or from a stack file for `kfstack plan`); it has no defaults of its own: they
live in infra/config_model.py. The pure core (`infra/kubeflow/*`) takes only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PipelineDefinitions = Literal["database", "kubernetes"]
# Pod Security Standards levels the plan's policy checks every pod spec against.
PodSecurityLevel = Literal["baseline", "restricted"]
# Named component sets: `full` is the release's example; the others are the release
# tables' `[presets]` (a test checks every table against this).
Preset = Literal["full", "ml-core"]
# `kwok`: a control plane whose pods never run (the engine tier); see transforms/testmode.py.
TestMode = Literal["kwok"]


@dataclass(frozen=True)
class ManifestSource:
    """Where the release's manifests come from: a local checkout or a pinned git ref.

    Exactly one of `path` and `git_url` is set. `git_ref` must be a tag or a
    commit, so that the same stack always renders the same objects.
    """

    path: Path | None = None
    git_url: str | None = None
    git_ref: str | None = None


@dataclass(frozen=True)
class UserProfile:
    """A Kubeflow user (a Dex static user) and the Profile (namespace) it owns."""

    email: str
    profile: str


@dataclass(frozen=True)
class KubeflowSettings:
    """Everything the pure core needs to compute an InstallPlan.

    Attributes:
        release: Kubeflow release, e.g. "26.03"; checked against the release the source
            holds. None: plan whatever release the source holds (`--against`).
        source: where the manifests of that release are read from.
        preset: "full", "ml-core" or None when `components` is explicit.
        components: explicit component names (closed over their needs by the catalogue).
        cluster_kind: picks overlays (oauth2-proxy m2m overlay, istio gke overlay).
        gateway_node_port: the NodePort the ingress gateway gets when the cluster kind
            maps a host port to it (kind); None keeps the release's ClusterIP.
        kubernetes_version: "1.34" style; objects are validated against its schema.
        pipeline_definitions: KFP pipeline store: in the database or as Kubernetes resources.
        users: Dex static users and their profiles; the first one is the admin.
        registry_mirror: when set, every image is rewritten to this registry prefix.
        allow_privileged: `Kind[.group]/namespace/name` of objects exempt from pod security.
        pod_security: Pod Security Standards level checked on every pod spec.
        protect_data: stateful objects are protected from deletion and retained (prod).
        resource_scale: multiplier on container resource requests (dev < 1).
        test_mode: "kwok" for a control plane whose pods never run (the engine tier):
            webhooks fail open, stated in the plan (see `testmode.py`); None otherwise.
        training_workers: most workers of the train step's jobs (`kfstack:training`); above
            1 the plan holds the training runtime they need (`transforms/training.py`).
    """

    release: str | None
    source: ManifestSource
    preset: Preset | None
    components: tuple[str, ...]
    cluster_kind: str
    gateway_node_port: int | None
    kubernetes_version: str
    pipeline_definitions: PipelineDefinitions
    users: tuple[UserProfile, ...]
    registry_mirror: str | None
    allow_privileged: tuple[str, ...]
    pod_security: PodSecurityLevel
    protect_data: bool
    resource_scale: float
    test_mode: TestMode | None
    training_workers: int = 1
