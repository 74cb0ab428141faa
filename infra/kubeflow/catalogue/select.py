"""The Kubeflow platform by component: selection, needs closed, declared edges.

The components themselves (kustomize paths per release, needs, declared edges, the
objects that hold data) are data, in `components_2603.py`; presets live beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from infra.kubeflow.catalogue.component import OPTION_ATTRIBUTES, Component, ReleasePaths
from infra.kubeflow.catalogue.data_2603 import COMPONENTS, PRESETS
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import DeclaredEdge
from infra.kubeflow.settings import KubeflowSettings

__all__ = [
    "CATALOGUE",
    "OPTION_ATTRIBUTES",
    "PRESETS",
    "RELEASES",
    "Component",
    "ReleasePaths",
    "check_release",
    "close_needs",
    "declared_edges",
    "requested_names",
    "select_components",
]

RELEASES: tuple[str, ...] = ("26.03",)

CATALOGUE: Mapping[str, Component] = MappingProxyType({c.name: c for c in COMPONENTS})


def check_release(release: str) -> None:
    """Raise a CatalogueError when `release` is not supported."""
    if release not in RELEASES:
        raise CatalogueError(
            f"kubeflow.release: unsupported release {release!r}",
            hint=f"supported releases: {', '.join(RELEASES)}",
        )


def requested_names(settings: KubeflowSettings) -> tuple[str, ...]:
    """Return the component names the settings ask for (preset plus explicit components)."""
    names: list[str] = []
    if settings.preset is not None:
        if settings.preset not in PRESETS:
            raise CatalogueError(
                f"kubeflow.preset: unknown preset {settings.preset!r}",
                hint=f"known presets: {', '.join(sorted(PRESETS))}",
            )
        names.extend(PRESETS[settings.preset])
    names.extend(settings.components)
    if not names:
        raise CatalogueError(
            "kubeflow: no components selected", hint="set kubeflow.preset or kubeflow.components"
        )
    return tuple(names)


def close_needs(names: Iterable[str]) -> tuple[Component, ...]:
    """Return the components `names` and everything they need, in catalogue order.

    Raises:
        CatalogueError: listing every unknown name, and the known ones.

    """
    wanted = list(names)
    unknown = sorted({n for n in wanted if n not in CATALOGUE})
    if unknown:
        raise CatalogueError(
            [f"kubeflow.components: unknown component {n!r}" for n in unknown],
            hint=f"known components: {', '.join(CATALOGUE)}",
        )
    closed: set[str] = set()
    stack = list(wanted)
    while stack:
        name = stack.pop()
        if name not in closed:
            closed.add(name)
            stack.extend(CATALOGUE[name].needs)
    return tuple(c for c in COMPONENTS if c.name in closed)


def select_components(settings: KubeflowSettings) -> tuple[Component, ...]:
    """Return the closed, ordered component set of `settings` (release checked)."""
    check_release(settings.release)
    return close_needs(requested_names(settings))


def declared_edges(components: Sequence[Component]) -> tuple[DeclaredEdge, ...]:
    """Return the declared edges of `components`, in catalogue order."""
    return tuple(edge for component in components for edge in component.edges)
