"""`build_plan`: settings -> InstallPlan, the whole pure core in one call.

source -> components (needs closed) -> render (cached) -> credentials, users, images,
sizes, readiness -> edges, waves, critical path -> policy and schema findings.
The final plan is cached too, keyed by the source digest, the settings and the code of
`infra/kubeflow`, so an unchanged second plan reads one file.
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
from infra.kubeflow.cache import cache_key, read_entry, tool_versions, write_entry
from infra.kubeflow.checks.policy import check_policy
from infra.kubeflow.checks.schema import validate_objects
from infra.kubeflow.errors import PlanError
from infra.kubeflow.graph.order import add_readiness_annotations, critical_path, infer_edges
from infra.kubeflow.graph.order import install_waves as compute_waves
from infra.kubeflow.objects import InstallPlan, ObjectKey, PlannedObject, SecretSpec
from infra.kubeflow.render.kustomize import Rendered, pinned_kubectl, render_components
from infra.kubeflow.render.source import resolve_source, source_digest
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms import credentials
from infra.kubeflow.transforms import images as transform
from infra.kubeflow.transforms.gateway import expose_gateway
from infra.kubeflow.transforms.scope import strip_cluster_namespaces
from infra.kubeflow.transforms.testmode import apply_test_mode

Progress = Callable[[str], None]
_PLAN_FORMAT = 1


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
    components = catalogue.select_components(settings)
    root = resolve_source(settings.source, cache_dir=cache)
    say(f"source: {root}")
    digest = source_digest(root)
    key = plan_key(settings, digest)
    plan_file = cache / "plans" / f"{key}.json"
    cached = _read_objects(plan_file, key) if use_cache else None
    if cached is not None:
        # The cached objects only: edges, waves and findings are recomputed from them.
        say("plan: cached objects")
        plan = assemble(settings, components, *cached, digest=digest, progress=say)
        return apply_test_mode(plan, settings.test_mode)
    rendered = render_components(
        root,
        components,
        settings,
        digest=digest,
        cache_dir=cache,
        use_cache=use_cache,
        progress=say,
    )
    say(f"transform: {len(rendered)} objects")
    objects, secrets = final_objects(
        rendered_objects=rendered, components=components, settings=settings
    )
    plan = assemble(settings, components, objects, secrets, digest=digest, progress=say)
    plan = apply_test_mode(plan, settings.test_mode)
    if use_cache:
        write_entry(plan_file, key, _objects_payload(objects, secrets))
    return plan


def plan_key(settings: KubeflowSettings, digest: str) -> str:
    """Return the cache key of a plan: code, source content, settings and tool versions."""
    fields = dataclasses.asdict(replace(settings, source=type(settings.source)()))
    versions = tool_versions(pinned_kubectl().version)
    return cache_key("plan", _PLAN_FORMAT, code_version(), digest, fields, versions)


def _objects_payload(
    objects: Sequence[PlannedObject], secrets: Sequence[SecretSpec]
) -> dict[str, object]:
    return {
        "objects": [
            [
                list(dataclasses.astuple(o.key)),
                o.manifest,
                o.component,
                o.origin,
                o.holds_data,
                o.reason,
            ]
            for o in objects
        ],
        "secrets": [dataclasses.asdict(s) for s in secrets],
    }


def _read_objects(
    path: Path, key: str
) -> tuple[tuple[PlannedObject, ...], tuple[SecretSpec, ...]] | None:
    """The final objects and secrets of a cached plan, or None when absent or not valid."""
    payload = read_entry(path, key)
    if not isinstance(payload, dict):
        return None
    try:
        objects = tuple(
            PlannedObject(ObjectKey(*k), m, c, origin=o, holds_data=bool(h), reason=str(r))
            for k, m, c, o, h, r in payload["objects"]
        )
        secrets = tuple(SecretSpec(**s) for s in payload["secrets"])
    except (TypeError, KeyError, ValueError):
        return None
    return objects, secrets


def final_objects(
    *,
    rendered_objects: Sequence[Rendered],
    components: Sequence[catalogue.Component],
    settings: KubeflowSettings,
) -> tuple[tuple[PlannedObject, ...], tuple[SecretSpec, ...]]:
    """Return the transformed objects (sorted by key) and the secrets they need."""
    objects = strip_cluster_namespaces(transform.planned_objects(rendered_objects, components))
    objects, secrets = credentials.replace_credentials(objects, settings.users)
    names = {c.name for c in components}
    if "profiles" in names:
        owner = "user-namespace" if "user-namespace" in names else "profiles"
        objects = transform.apply_users(objects, settings.users, profiles_component=owner)
    if settings.registry_mirror:
        objects = transform.rewrite_images(objects, settings.registry_mirror)
    objects = transform.scale_requests(objects, settings.resource_scale)
    objects = expose_gateway(objects, cluster_kind=settings.cluster_kind)
    annotated = add_readiness_annotations([o.manifest for o in objects])
    objects = tuple(
        o if m is o.manifest else replace(o, manifest=m)
        for o, m in zip(objects, annotated, strict=True)
    )
    check_unique(objects)
    return tuple(sorted(objects, key=lambda o: o.key)), secrets


def check_unique(objects: Sequence[PlannedObject]) -> None:
    """Raise a PlanError naming every object key that occurs more than once."""
    counts = Counter(o.key for o in objects)
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        raise PlanError(
            [f"{k}: {counts[k]} objects with this identity" for k in duplicates],
            hint="two components render the same object; drop one of them",
        )


def assemble(
    settings: KubeflowSettings,
    components: Sequence[catalogue.Component],
    objects: tuple[PlannedObject, ...],
    secrets: tuple[SecretSpec, ...],
    *,
    digest: str,
    progress: Progress,
) -> InstallPlan:
    """Return the plan of `objects`: edges, waves, critical path, policy/schema findings."""
    manifests = [o.manifest for o in objects]
    keys = [o.key for o in objects]
    progress("graph: edges and waves")
    edges = infer_edges(manifests, catalogue.declared_edges(components))
    waves = compute_waves(keys, edges)
    path = critical_path(keys, edges)
    progress("check: policy and schemas")
    findings = [
        *check_policy(
            manifests,
            allow_privileged=settings.allow_privileged,
            pod_security=settings.pod_security,
        ),
        *validate_objects(manifests, kubernetes_version=settings.kubernetes_version),
    ]
    findings.sort(key=lambda f: (f.severity, str(f.key or ""), f.rule, f.message))
    return InstallPlan(
        release=settings.release,
        components=tuple(c.name for c in components),
        objects=objects,
        edges=edges,
        waves=waves,
        critical_path=path,
        secrets=secrets,
        findings=tuple(findings),
        source_digest=digest,
        meta={"derived_secrets": tuple(sorted(credentials.DERIVED))},
    )
