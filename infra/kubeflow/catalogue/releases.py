"""The release table: every Kubeflow release kfstack plans, each fact once.

A release's component table (`tables/`) holds what its files cannot say; its
Kubernetes versions, object store, default credentials and the fingerprint that
detects it in a source (component versions of the release's README) live here.
Releases are listed oldest first, so `--against` and the docs read as an upgrade path.

Assumptions, stated where they are not read from a local copy of the release:
- Kubernetes versions are the ones each release's notes name as tested; v1.10's
  (1.32, 1.33: kubeflow/community issue 767, the 1.10 dependency list) and v1.11's
  (1.32-1.34, assumed) are not read from a file of the release.
- v1.11.0 has no local copy here: its README says it moved from MinIO to SeaweedFS,
  and it is planned with the 26.03 table. It has no fingerprint, so it is never
  detected from a source: a source of it plans with a warning as the configured release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from infra.kubeflow.catalogue.component import Component
from infra.kubeflow.catalogue.tables import kubeflow_1_10, kubeflow_2603
from infra.kubeflow.errors import CatalogueError

ObjectStore = Literal["minio", "seaweedfs"]

# Secret name -> the default credential it replaces (every release of the table ships
# these; `transforms/credentials.py` knows where each one sits).
_DEFAULT_CREDENTIALS: Mapping[str, str] = MappingProxyType(
    {
        "dex-user-password-hash": "auth/dex-passwords: bcrypt hash of 12341234",
        "oauth2-proxy-client-secret": "auth/dex-oidc-client, oauth2-proxy/oauth2-proxy-*",
        "oauth2-proxy-cookie-secret": "oauth2-proxy/oauth2-proxy-*",
        "object-store-access-key": "kubeflow/mlpipeline-minio-artifact: minio",
        "object-store-secret-key": "kubeflow/mlpipeline-minio-artifact: minio123",
        "pipelines-db-password": "kubeflow/mysql-secret: empty root password",
        "katib-db-password": "kubeflow/katib-mysql-secrets: root password 'test'",
        "model-registry-db-password": "kubeflow/model-registry-db-secrets",
    }
)


@dataclass(frozen=True)
class Release:
    """One Kubeflow release.

    Attributes:
        name: what `kubeflow.release` says (`26.03`, `v1.10.2`).
        git_tag: its tag in kubeflow/manifests.
        kubernetes: the Kubernetes minor versions it supports.
        object_store: where Pipelines keep artifacts (MinIO, or SeaweedFS behind the S3 API).
        components: its component table.
        presets: named component sets (`full` is always the release's example).
        default_credentials: secret name -> the default credential it replaces.
        fingerprint: README component -> version, all of which a source must show.
        local_copy: whether a copy of it is tested (`../shared/kubeflow/<name>`).

    """

    name: str
    git_tag: str
    kubernetes: tuple[str, ...]
    object_store: ObjectStore
    components: tuple[Component, ...]
    presets: Mapping[str, tuple[str, ...]]
    default_credentials: Mapping[str, str] = field(default_factory=lambda: _DEFAULT_CREDENTIALS)
    fingerprint: Mapping[str, str] = field(default_factory=dict)
    local_copy: bool = False

    @property
    def catalogue(self) -> Mapping[str, Component]:
        """Its components by name."""
        return {c.name: c for c in self.components}


RELEASES: tuple[Release, ...] = (
    Release(
        name="v1.10.2",
        git_tag="v1.10.2",
        kubernetes=("1.32", "1.33"),
        object_store="minio",
        components=kubeflow_1_10.COMPONENTS,
        presets=kubeflow_1_10.PRESETS,
        fingerprint=MappingProxyType(
            {"Kubeflow Pipelines": "2.5.0", "KServe": "v0.15.0", "Istio": "1.26.1"}
        ),
        local_copy=True,
    ),
    Release(
        name="v1.11.0",
        git_tag="v1.11.0",
        kubernetes=("1.32", "1.33", "1.34"),
        object_store="seaweedfs",
        components=kubeflow_2603.COMPONENTS,
        presets=kubeflow_2603.PRESETS,
    ),
    Release(
        name="26.03",
        git_tag="26.03",
        kubernetes=("1.32", "1.33", "1.34", "1.35"),
        object_store="seaweedfs",
        components=kubeflow_2603.COMPONENTS,
        presets=kubeflow_2603.PRESETS,
        fingerprint=MappingProxyType(
            {"Kubeflow Pipelines": "2.16.0", "KServe": "v0.16.0", "Istio": "1.29.0"}
        ),
        local_copy=True,
    ),
)

RELEASE_NAMES: tuple[str, ...] = tuple(r.name for r in RELEASES)
SUPPORTED_KUBERNETES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {r.name: r.kubernetes for r in RELEASES}
)


def release(name: str) -> Release:
    """Return the release `name` (`v1.10.2` and `1.10.2` both name v1.10.2).

    Raises:
        CatalogueError: naming the known releases.

    """
    for candidate in RELEASES:
        if name in (candidate.name, candidate.name.removeprefix("v")):
            return candidate
    raise CatalogueError(
        f"kubeflow.release: unknown release {name!r}",
        hint=f"known releases: {', '.join(RELEASE_NAMES)}",
    )
