"""What the catalogue knows of a release and of each of its components (the data types)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from infra.kubeflow.objects import DeclaredEdge, ObjectKey, ObjectMatch
from infra.kubeflow.settings import KubeflowSettings

# Settings that pick a variant of a component's paths: the KubeflowSettings attribute name.
OPTION_ATTRIBUTES: tuple[str, ...] = ("cluster_kind", "pipeline_definitions")

Options = Mapping[str, Mapping[str, tuple[str, ...]]]


def _no_options() -> Options:
    return MappingProxyType({})


@dataclass(frozen=True)
class Component:
    """One component of the platform.

    Attributes:
        name: catalogue name (what stack config and `kfstack plan` use).
        description: one line for people (the display name).
        paths: its kustomize paths relative to the manifests root, as the release's
            `example/kustomization.yaml` lists them (or where the release keeps them).
        options: settings attribute -> value -> paths replacing `paths` (the choices it
            offers: cluster-kind overlays, where pipeline definitions are stored).
        namespace: set on every object of these paths (for bases installed with `-n`).
        needs: components that must be installed with it.
        edges: orderings inference cannot see (webhooks of pods, databases before apps).
        data: objects that hold data (protected and retained when the stack says so).
        known: False for a component the release's example lists but the table does
            not know: it is planned as rendered, with no needs, edges or data.

    """

    name: str
    description: str
    paths: tuple[str, ...]
    options: Options = field(default_factory=_no_options)
    namespace: str | None = None
    needs: tuple[str, ...] = ()
    edges: tuple[DeclaredEdge, ...] = ()
    data: tuple[ObjectMatch, ...] = ()
    known: bool = True

    def select_paths(self, settings: KubeflowSettings) -> tuple[str, ...]:
        """Return the paths for `settings` (the first option that matches wins)."""
        for attribute, variants in self.options.items():
            value = str(getattr(settings, attribute))
            if value in variants:
                return variants[value]
        return self.paths

    def all_paths(self) -> tuple[str, ...]:
        """Every path this component may render: default and every option."""
        found = list(self.paths)
        for variants in self.options.values():
            for paths in variants.values():
                found.extend(p for p in paths if p not in found)
        return tuple(found)

    def holds_data(self, key: ObjectKey) -> bool:
        """Return whether the object `key` of this component holds data."""
        return any(match.matches(key) for match in self.data)


@dataclass(frozen=True)
class KubeflowRelease:
    """One Kubeflow release (a row of `tables/releases.toml`).

    Attributes:
        name: what `kubeflow.release` says (`26.03`, `v1.10.2`).
        git_tag: its tag in kubeflow/manifests.
        kubernetes: the Kubernetes minor versions it supports.
        components: its component table.
        presets: named component sets (`full` is always the release's example).
        fingerprint: README component -> version, all of which a source must show.

    """

    name: str
    git_tag: str
    kubernetes: tuple[str, ...]
    components: tuple[Component, ...]
    presets: Mapping[str, tuple[str, ...]]
    fingerprint: Mapping[str, str] = field(default_factory=dict)

    @property
    def catalogue(self) -> Mapping[str, Component]:
        """Its components by name."""
        return {c.name: c for c in self.components}
