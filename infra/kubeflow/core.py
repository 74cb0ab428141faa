"""`build_plan`: settings -> InstallPlan, the whole pure core in one call.

source -> components (needs closed) -> render (cached) -> credentials, users, images,
sizes, readiness -> edges, waves, critical path -> policy and schema findings.
The final plan is cached too, keyed by the source digest, the settings and the code of
`infra/kubeflow`, so an unchanged second plan reads one file (`plan_entry.py`: what it
keeps, and why the policy checks still run on every plan).
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
from infra.kubeflow.checks import CHECKS, run_checks
from infra.kubeflow.checks.schema import Prevalidated
from infra.kubeflow.errors import PlanError
from infra.kubeflow.graph import critical_path, infer_edges
from infra.kubeflow.graph import install_waves as compute_waves
from infra.kubeflow.objects import (
    DeclaredEdge,
    Finding,
    InstallPlan,
    ObjectKey,
    PlannedObject,
    SecretSpec,
)
from infra.kubeflow.plan_entry import PLAN_FORMAT, Derived, plan_payload, read_plan_payload
from infra.kubeflow.render import Rendered, render_components
from infra.kubeflow.render.entries import cache_key, read_entry, tool_versions, write_entry
from infra.kubeflow.render.kustomize import pinned_kubectl
from infra.kubeflow.render.source import resolve_source, source_digest
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms import apply_transforms, credentials
from infra.kubeflow.transforms.testmode import apply_test_mode

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
        settings: what to install (release, source, components, cluster kind, users ...).
        cache_dir: where renders and plans are cached (default: the user cache dir).
        use_cache: read and write the caches; False always renders.
        progress: called with a short status line at each step.

    Raises:
        PlanError: unknown component/preset/release, bad source, kustomize failure.
        CycleError: the install graph has a cycle (names its objects).

    """
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    say = progress or (lambda _message: None)
    if settings.release is not None:
        # an unknown release fails before any fetch
        catalogue.find_kubeflow_release(settings.release)
    root = resolve_source(settings.source, cache_dir=cache)
    say(f"source: {root}")
    digest = source_digest(root, cache_dir=cache if use_cache else None)
    key = plan_key(settings, digest)
    plan_file = cache / "plans" / f"{key}.json"
    cached = read_plan_payload(read_entry(plan_file, key)) if use_cache else None
    release, release_notes = catalogue.resolve_release(settings.release, root)
    settings = replace(settings, release=release.name)
    say(f"release: {release.name}")
    selection = catalogue.select_components(settings, release, root)
    notes = (*release_notes, *(_catalogue_finding(w) for w in selection.warnings))
    if cached is not None:
        say("plan: cached")
        plan = assemble(
            settings,
            selection,
            cached.objects,
            cached.secrets,
            digest=digest,
            progress=say,
            notes=notes,
            derived=cached.derived,
        )
        return apply_test_mode(plan, settings.test_mode)
    prevalidated = Prevalidated(settings.kubernetes_version)
    rendered = render_components(
        root,
        selection.components,
        settings,
        digest=digest,
        cache_dir=cache,
        use_cache=use_cache,
        progress=say,
        on_parsed=prevalidated.add,
    )
    say(f"transform: {len(rendered)} objects")
    objects, secrets = final_objects(
        rendered_objects=rendered, components=selection.components, settings=settings
    )
    derived = derive(settings, selection, objects, progress=say, prevalidated=prevalidated)
    plan = assemble(
        settings,
        selection,
        objects,
        secrets,
        digest=digest,
        progress=say,
        notes=notes,
        derived=derived,
    )
    if use_cache:
        write_entry(plan_file, key, plan_payload(objects, secrets, derived))
    return apply_test_mode(plan, settings.test_mode)


def _catalogue_finding(message: str) -> Finding:
    return Finding("catalogue.unplaced", "warning", None, message)


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
    selection: catalogue.Selection,
    objects: Sequence[PlannedObject],
    *,
    progress: Progress,
    prevalidated: Prevalidated | None = None,
) -> Derived:
    """Return the install graph and schema findings of `objects` (the costly part)."""
    manifests = [o.manifest for o in objects]
    keys = [o.key for o in objects]
    progress("graph: edges and waves")
    edges = infer_edges(manifests, catalogue.declared_edges(selection.components))
    progress("check: schemas")
    schema_findings = run_checks(
        manifests, settings, checks=_SCHEMA_CHECK, prevalidated=prevalidated
    )[_SCHEMA]
    return Derived(
        edges, compute_waves(keys, edges), critical_path(keys, edges), tuple(schema_findings)
    )


def assemble(
    settings: KubeflowSettings,
    selection: catalogue.Selection,
    objects: tuple[PlannedObject, ...],
    secrets: tuple[SecretSpec, ...],
    *,
    digest: str,
    progress: Progress,
    notes: Sequence[Finding] = (),
    derived: Derived,
) -> InstallPlan:
    """Return the plan of `objects` with what `derive` computed of them, checks run.

    The checks other than the schema check run on the objects in any case (a cached
    plan's `derived` comes from disk, the policy gate never does).
    """
    manifests = [o.manifest for o in objects]
    keys = [o.key for o in objects]
    declared = catalogue.declared_edges(selection.components)
    progress("check: policy")
    checked = run_checks(manifests, settings, known={_SCHEMA: derived.schema_findings})
    findings = [
        *notes,
        *unmatched_edges(declared, keys),
        *kubernetes_support(settings),
        *(f for found in checked.values() for f in found),
    ]
    findings.sort(key=lambda f: (f.severity, str(f.key or ""), f.rule, f.message))
    return InstallPlan(
        release=str(settings.release),
        components=tuple(c.name for c in selection.components),
        objects=objects,
        edges=derived.edges,
        waves=derived.waves,
        critical_path=derived.critical_path,
        secrets=secrets,
        findings=tuple(findings),
        source_digest=digest,
        unknown_components=selection.unknown,
        meta={"derived_secrets": tuple(sorted(credentials.DERIVED))},
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


def kubernetes_support(settings: KubeflowSettings) -> list[Finding]:
    """Return a warning when the release does not support the cluster's Kubernetes version."""
    release = catalogue.find_kubeflow_release(str(settings.release))
    if settings.kubernetes_version in release.kubernetes:
        return []
    return [
        Finding(
            "release.kubernetes-version",
            "warning",
            None,
            f"Kubeflow {release.name} supports Kubernetes {', '.join(release.kubernetes)}, "
            f"not {settings.kubernetes_version}",
        )
    ]
