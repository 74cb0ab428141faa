"""Which components a plan holds: the release's example, a preset, needs closed.

The `full` preset is the source's own `example/kustomization.yaml`: each entry is
matched to a component of the release's table by its path. An entry the table does not
know is planned as rendered, as a component of its own, with a warning; a table
component the source does not hold, or a needs entry that names nothing, is a warning
too. Only what the stack names explicitly (`kubeflow.components`, a preset other than
`full`) must be known and present, else it is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from infra.kubeflow.catalogue.component import Component, KubeflowRelease
from infra.kubeflow.catalogue.detect import resolve_release
from infra.kubeflow.catalogue.example import example_entries
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import DeclaredEdge, Finding
from infra.kubeflow.settings import KubeflowSettings

FULL = "full"
_GENERIC = frozenset({"base", "overlays", "upstream", "installs", "options", "kubeflow"})


@dataclass(frozen=True)
class Selection:
    """The Kubeflow release of a plan, its components and what the catalogue could not place.

    Attributes:
        kubeflow_release: the release the source holds (resolved once, passed on).
        components: the closed component set, the example's order first.
        unknown: components planned as rendered (example entries the table does not know).
        warnings: one line per thing the catalogue could not place or match.
        notes: findings of resolving the release (a source that does not show it).

    """

    kubeflow_release: KubeflowRelease
    components: tuple[Component, ...]
    unknown: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[Finding, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The notes, then a warning finding for each thing the catalogue could not place."""
        unplaced = (Finding("catalogue.unplaced", "warning", None, w) for w in self.warnings)
        return (*self.notes, *unplaced)


def select_plan(
    settings: KubeflowSettings, root: Path, *, configured: KubeflowRelease | None
) -> Selection:
    """The catalogue stage: the release the source at `root` holds and its components.

    Args:
        settings: what the stack asks for (preset, components, cluster kind ...).
        root: the manifests root of the source.
        configured: the release the stack names, looked up once by the caller (None:
            plan whatever release the source holds).

    Raises:
        CatalogueError: the source holds another release than the configured one (or
            none that can be told), or an explicit component is unknown or not in it.

    """
    kubeflow_release, notes = resolve_release(configured, root)
    selection = select_components(settings, kubeflow_release, root)
    return replace(selection, notes=notes)


def requested_names(
    settings: KubeflowSettings, kubeflow_release: KubeflowRelease
) -> tuple[str, ...]:
    """Return the component names of a preset other than `full` plus the explicit ones."""
    names: list[str] = []
    if settings.preset is not None and settings.preset != FULL:
        if settings.preset not in kubeflow_release.presets:
            known = sorted({FULL, *kubeflow_release.presets})
            raise CatalogueError(
                f"kubeflow.preset: unknown preset {settings.preset!r}",
                hint=f"known presets: {', '.join(known)}",
            )
        names.extend(kubeflow_release.presets[settings.preset])
    names.extend(settings.components)
    if not names and settings.preset != FULL:
        raise CatalogueError(
            "kubeflow: no components selected", hint="set kubeflow.preset or kubeflow.components"
        )
    return tuple(names)


def select_components(
    settings: KubeflowSettings, kubeflow_release: KubeflowRelease, root: Path
) -> Selection:
    """Return the components `settings` ask for in the source at `root`, needs closed.

    Raises:
        CatalogueError: an explicit component is unknown or not in the source.

    """
    table = {c.name: c for c in kubeflow_release.components}
    warnings = [
        f"could not place component {c.name!r} of the {kubeflow_release.name} table: "
        f"{', '.join(missing)} not in the source"
        for c in kubeflow_release.components
        if (missing := [p for p in c.paths if not (root / p).is_dir()])
    ]
    chosen: list[Component] = []
    unknown: list[str] = []
    if settings.preset == FULL:
        chosen, unknown, more = _from_example(root, kubeflow_release)
        warnings.extend(more)
    known = {c.name: c for c in chosen}
    _check_explicit(
        requested_names(settings, kubeflow_release), {**table, **known}, root, kubeflow_release
    )
    wanted = [*[c.name for c in chosen], *requested_names(settings, kubeflow_release)]
    closed, unmatched = _close_needs(wanted, {**table, **known}, root)
    warnings.extend(unmatched)
    order = [c.name for c in chosen] + [c.name for c in kubeflow_release.components]
    ranked = sorted(closed, key=lambda c: order.index(c.name))
    return Selection(kubeflow_release, tuple(ranked), tuple(unknown), tuple(warnings))


def _from_example(
    root: Path, kubeflow_release: KubeflowRelease
) -> tuple[list[Component], list[str], list[str]]:
    by_path = {p: c for c in kubeflow_release.components for p in c.all_paths()}
    chosen: dict[str, Component] = {}
    unknown: list[str] = []
    warnings: list[str] = []
    for entry in example_entries(root):
        component = by_path.get(entry)
        if component is not None:
            chosen.setdefault(component.name, component)
            continue
        name = _unknown_name(entry, {*chosen, *(c.name for c in kubeflow_release.components)})
        chosen[name] = Component(name, f"planned as rendered from {entry}", (entry,), known=False)
        unknown.append(name)
        warnings.append(
            f"example entry {entry!r} matches no component of the {kubeflow_release.name} table: "
            f"planned as rendered, as component {name!r}"
        )
    return list(chosen.values()), unknown, warnings


def _unknown_name(entry: str, taken: set[str]) -> str:
    parts = [p for p in entry.split("/") if p and p not in _GENERIC]
    if len(parts) > 1:
        parts = parts[1:]  # the top folder: applications/, common/ ...
    name = parts[0] if parts else entry.replace("/", "-")
    if name in taken:
        name = "-".join(parts) or entry.replace("/", "-")
    while name in taken:
        name += "-x"
    return name


def _check_explicit(
    names: Sequence[str],
    catalogue: dict[str, Component],
    root: Path,
    kubeflow_release: KubeflowRelease,
) -> None:
    problems = [
        f"kubeflow.components: unknown component {n!r}"
        for n in sorted(set(names))
        if n not in catalogue
    ]
    problems += [
        f"component {n!r} is not in this source: {', '.join(missing)} missing"
        for n in sorted(set(names))
        if n in catalogue
        and (missing := [p for p in catalogue[n].paths if not (root / p).is_dir()])
    ]
    if problems:
        raise CatalogueError(
            problems,
            hint=f"components of {kubeflow_release.name}: {', '.join(catalogue)}",
        )


def _close_needs(
    names: Iterable[str], catalogue: dict[str, Component], root: Path
) -> tuple[list[Component], list[str]]:
    closed: dict[str, Component] = {}
    warnings: list[str] = []
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in closed:
            continue
        component = catalogue[name]
        closed[name] = component
        for need in component.needs:
            placeable = need in catalogue and all(
                (root / p).is_dir() for p in catalogue[need].paths
            )
            if placeable:
                stack.append(need)
            else:
                warnings.append(
                    f"needs entry {need!r} of component {name!r} matches no component "
                    "of this source: not planned"
                )
    return list(closed.values()), sorted(set(warnings))


def declared_edges(components: Sequence[Component]) -> tuple[DeclaredEdge, ...]:
    """Return the declared edges of `components`, in order."""
    return tuple(edge for component in components for edge in component.edges)
