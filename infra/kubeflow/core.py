"""`build_plan`: settings -> InstallPlan, the whole pure core in one call.

The stages, each called through its one entry, in this order:

1. `render.open_source`: the manifests root and the digest of its content.
2. `catalogue.select_plan`: the Kubeflow release the source holds (the configured one is
   looked up once, here, and the resolved release is passed on) and the components.
3. `render.render_components`: the components through the pinned kustomize (cached).
4. `transforms.apply_transforms`: credentials, users, images, sizes, readiness ...
5. `graph.install_graph`: edges, waves, critical path.
6. `checks.run_checks`: schema (cached with the plan) and policy findings (never cached).
7. `transforms.apply_transforms(after_graph=True)`: test mode, on what is applied only.

Steps 3 to 5 and the schema check are the costly part: their result (`PlanEntry`) is
cached, keyed by the source digest, the settings and the code of `infra/kubeflow`, so an
unchanged second plan reads one file (`plan_entry.py`: what it keeps, and why the policy
checks still run on every plan). Cached or computed, one `assemble` makes the plan.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import platformdirs

from infra.kubeflow import catalogue
from infra.kubeflow.catalogue import KubeflowRelease, Selection
from infra.kubeflow.checks import CHECKS, run_checks
from infra.kubeflow.checks.schema import Prevalidated
from infra.kubeflow.errors import PlanError
from infra.kubeflow.graph import install_graph
from infra.kubeflow.objects import (
    DeclaredEdge,
    Finding,
    InstallPlan,
    ObjectKey,
    PlannedObject,
    SecretSpec,
)
from infra.kubeflow.plan_entry import (
    PLAN_FORMAT,
    Derived,
    PlanEntry,
    plan_payload,
    read_plan_payload,
)
from infra.kubeflow.render import Rendered, Source, open_source, render_components
from infra.kubeflow.render.entries import cache_key, read_entry, tool_versions, write_entry
from infra.kubeflow.render.kustomize import pinned_kubectl
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms import apply_transforms, credentials, testmode

Progress = Callable[[str], None]
_SCHEMA = "schema"  # the name of the schema check in CHECKS
_SCHEMA_CHECK = tuple((name, check) for name, check in CHECKS if name == _SCHEMA)


def default_cache_dir() -> Path:
    """Return kfstack's user cache dir (honours XDG_CACHE_HOME on Linux)."""
    return Path(platformdirs.user_cache_dir("kfstack"))


def code_version() -> str:
    """Return a digest of the pure core's code: a changed module invalidates cached plans."""
    digest = hashlib.blake2b(digest_size=12)
    package = Path(__file__).parent
    for module in sorted(package.rglob("*.py")):
        digest.update(module.relative_to(package).as_posix().encode())
        digest.update(module.read_bytes())
    return digest.hexdigest()


def build_plan(
    settings: KubeflowSettings,
    *,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> InstallPlan:
    """Return the InstallPlan of `settings`: final objects, edges, waves, secrets, findings.

    Args:
        settings: what to install (release, source, components, cluster kind ...).
        cache_dir: where renders and plans are cached (default: the user cache dir).
        use_cache: read and write the caches; False always renders.
        progress: called with a short status line at each step.

    Raises:
        PlanError: unknown component/preset/release, bad source, kustomize failure.
        CycleError: the install graph has a cycle (names its objects).

    """
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    say = progress or (lambda _message: None)
    # The one lookup of the configured release: an unknown one fails before any fetch.
    configured = (
        None if settings.release is None else catalogue.find_kubeflow_release(settings.release)
    )
    source = open_source(settings.source, cache_dir=cache, use_cache=use_cache)
    say(f"source: {source.root}")
    key = plan_key(settings, source.digest)
    plan_file = cache / "plans" / f"{key}.json"
    selection = catalogue.select_plan(settings, source.root, configured=configured)
    settings = replace(settings, release=selection.kubeflow_release.name)
    say(f"release: {selection.kubeflow_release.name}")
    entry = read_plan_payload(read_entry(plan_file, key)) if use_cache else None
    if entry is not None:
        say("plan: cached")
    else:
        entry = compute(
            settings, selection, source, cache_dir=cache, use_cache=use_cache, progress=say
        )
        if use_cache:
            write_entry(plan_file, key, plan_payload(entry))
    return assemble(settings, selection, entry, digest=source.digest, progress=say)


def compute(
    settings: KubeflowSettings,
    selection: Selection,
    source: Source,
    *,
    cache_dir: Path,
    use_cache: bool,
    progress: Progress,
) -> PlanEntry:
    """Return the costly part of a plan: render, transform, install graph, schema check."""
    prevalidated = Prevalidated(settings.kubernetes_version)
    rendered = render_components(
        source.root,
        selection.components,
        settings,
        digest=source.digest,
        cache_dir=cache_dir,
        use_cache=use_cache,
        progress=progress,
        on_parsed=prevalidated.add,
    )
    progress(f"transform: {len(rendered)} objects")
    objects, secrets = final_objects(
        rendered_objects=rendered, components=selection.components, settings=settings
    )
    derived = derive(settings, selection, objects, progress=progress, prevalidated=prevalidated)
    return PlanEntry(objects, secrets, derived)


def plan_key(settings: KubeflowSettings, digest: str) -> str:
    """Return the cache key of a plan: code, source content, settings and tool versions."""
    fields = dataclasses.asdict(replace(settings, source=type(settings.source)()))
    versions = tool_versions(pinned_kubectl().version)
    return cache_key("plan", PLAN_FORMAT, code_version(), digest, fields, versions)


def final_objects(
    *,
    rendered_objects: Sequence[Rendered],
    components: Sequence[catalogue.Component],
    settings: KubeflowSettings,
) -> tuple[tuple[PlannedObject, ...], tuple[SecretSpec, ...]]:
    """Return the transformed objects (sorted by key) and the secrets they need."""
    objects = apply_transforms(planned_objects(rendered_objects, components), settings)
    check_unique(objects)
    return tuple(sorted(objects, key=lambda o: o.key)), credentials.secrets_used(objects)


def planned_objects(
    rendered: Sequence[Rendered], components: Sequence[catalogue.Component]
) -> tuple[PlannedObject, ...]:
    """Return the rendered objects as PlannedObjects, with `holds_data` from the catalogue."""
    by_name = {c.name: c for c in components}
    out = []
    for item in rendered:
        key = ObjectKey.of(item.manifest)
        out.append(
            PlannedObject(
                key=key,
                manifest=item.manifest,
                component=item.component,
                holds_data=by_name[item.component].holds_data(key),
            )
        )
    return tuple(out)


def check_unique(objects: Sequence[PlannedObject]) -> None:
    """Raise a PlanError naming every object key that occurs more than once."""
    counts = Counter(o.key for o in objects)
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        raise PlanError(
            [f"{k}: {counts[k]} objects with this identity" for k in duplicates],
            hint="two components render the same object; drop one of them",
        )


def derive(
    settings: KubeflowSettings,
    selection: Selection,
    objects: Sequence[PlannedObject],
    *,
    progress: Progress,
    prevalidated: Prevalidated | None = None,
) -> Derived:
    """Return the install graph and schema findings of `objects` (the costly part)."""
    progress("graph: edges and waves")
    graph = install_graph(objects, catalogue.declared_edges(selection.components))
    progress("check: schemas")
    manifests = [o.manifest for o in objects]
    schema_findings = run_checks(
        manifests, settings, checks=_SCHEMA_CHECK, prevalidated=prevalidated
    )[_SCHEMA]
    return Derived(graph, tuple(schema_findings))


def assemble(
    settings: KubeflowSettings,
    selection: Selection,
    entry: PlanEntry,
    *,
    digest: str,
    progress: Progress,
) -> InstallPlan:
    """Return the plan of `entry`, checks run, the after-graph transforms applied.

    The checks other than the schema check run on the objects in any case (a cached
    entry comes from disk, the policy gate never does). They, like the install graph, see
    the objects before the after-graph transforms (test mode).
    """
    objects = entry.objects
    keys = [o.key for o in objects]
    progress("check: policy")
    checked = run_checks(
        [o.manifest for o in objects],
        settings,
        known={_SCHEMA: entry.derived.schema_findings},
    )
    findings = [
        *selection.findings,
        *unmatched_edges(catalogue.declared_edges(selection.components), keys),
        *kubernetes_support(settings, selection.kubeflow_release),
        *(f for found in checked.values() for f in found),
    ]
    findings.sort(key=lambda f: (f.severity, str(f.key or ""), f.rule, f.message))
    applied = apply_transforms(objects, settings, after_graph=True)
    graph = entry.derived.graph
    return InstallPlan(
        release=selection.kubeflow_release.name,
        components=tuple(c.name for c in selection.components),
        objects=applied,
        edges=graph.edges,
        waves=graph.waves,
        critical_path=graph.critical_path,
        secrets=entry.secrets,
        findings=tuple(findings),
        source_digest=digest,
        unknown_components=selection.unknown,
        meta={
            "derived_secrets": tuple(sorted(credentials.DERIVED)),
            **testmode.stated(settings, objects, applied),
        },
    )


def unmatched_edges(declared: Sequence[DeclaredEdge], keys: Sequence[ObjectKey]) -> list[Finding]:
    """Return a warning for each declared edge whose end selects no object of the plan."""
    findings = []
    for edge in declared:
        for end, match in (("dependent", edge.dependent), ("dependency", edge.dependency)):
            if not any(match.matches(k) for k in keys):
                findings.append(
                    Finding(
                        "catalogue.unmatched-edge",
                        "warning",
                        None,
                        f"declared edge ({edge.reason}): its {end} {match} matches no "
                        "object of the plan; the edge is not applied",
                    )
                )
    return findings


def kubernetes_support(
    settings: KubeflowSettings, kubeflow_release: KubeflowRelease
) -> list[Finding]:
    """Return a warning when the release does not support the cluster's Kubernetes version."""
    if settings.kubernetes_version in kubeflow_release.kubernetes:
        return []
    return [
        Finding(
            "release.kubernetes-version",
            "warning",
            None,
            f"Kubeflow {kubeflow_release.name} supports Kubernetes "
            f"{', '.join(kubeflow_release.kubernetes)}, "
            f"not {settings.kubernetes_version}",
        )
    ]
