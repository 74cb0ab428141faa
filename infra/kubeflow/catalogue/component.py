"""What the catalogue knows of one component: its paths per release, needs, edges, data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import DeclaredEdge, ObjectKey, ObjectMatch
from infra.kubeflow.settings import KubeflowSettings

# Options that pick a variant of a component's paths: the KubeflowSettings attribute name.
OPTION_ATTRIBUTES: tuple[str, ...] = ("cluster_kind", "pipeline_definitions")


@dataclass(frozen=True)
class ReleasePaths:
    """The kustomize paths of one component in one release.

    Attributes:
        default: paths rendered when no option overrides them.
        options: settings attribute -> value -> paths replacing `default`
            (e.g. `cluster_kind` -> `gke` -> the istio GKE overlay).
        namespace: set on every object of these paths (for bases installed with `-n`).

    """

    default: tuple[str, ...]
    options: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    namespace: str | None = None

    def select(self, settings: KubeflowSettings) -> tuple[str, ...]:
        """Return the paths for `settings` (the first option that matches wins)."""
        for attribute, variants in self.options.items():
            value = str(getattr(settings, attribute))
            if value in variants:
                return variants[value]
        return self.default


@dataclass(frozen=True)
class Component:
    """One component of the platform.

    Attributes:
        name: catalogue name (what stack config and `kfstack plan` use).
        description: one line for people.
        releases: release -> its kustomize paths.
        needs: components that must be installed with it.
        edges: orderings inference cannot see (webhooks of pods, databases before apps).
        data: objects that hold data (protected and retained when the stack says so).

    """

    name: str
    description: str
    releases: Mapping[str, ReleasePaths]
    needs: tuple[str, ...] = ()
    edges: tuple[DeclaredEdge, ...] = ()
    data: tuple[ObjectMatch, ...] = ()

    def paths(self, settings: KubeflowSettings) -> tuple[str, ...]:
        """Return the kustomize paths of this component for `settings`."""
        return self.release_paths(settings.release).select(settings)

    def release_paths(self, release: str) -> ReleasePaths:
        """Return the paths of `release`; an unsupported release is a CatalogueError."""
        try:
            return self.releases[release]
        except KeyError:
            raise CatalogueError(
                f"component {self.name!r} has no manifests for release {release!r}",
                hint=f"supported releases: {', '.join(sorted(self.releases))}",
            ) from None

    def holds_data(self, key: ObjectKey) -> bool:
        """Return whether the object `key` of this component holds data."""
        return any(match.matches(key) for match in self.data)
