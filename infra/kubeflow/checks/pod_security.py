"""Pod Security Standards over every pod spec of every object, custom resources included.

Rule ``policy.pod-security`` (error): the ``baseline`` level of the Kubernetes Pod Security
Standards (or ``restricted``, opt-in), checked on every pod spec, pod-level mapping and
container found anywhere in an object, in any shape (``pod_shapes.py``): container lists,
single containers, pod fields without containers, pod specs held in strings, and the
PodSpec and Container fields the plan's CRD schemas declare. That covers Pods, workload
templates and custom resources (ServingRuntimes, InferenceServices, Workflows, TrainJobs,
Spark applications ...) without a list of kinds an attacker could step around. Rules are in
``pod_rules.py``; capability names are compared as the container runtime grants them.

Rule ``policy.allow-list`` (error): an ``allowPrivileged`` entry that is not
``Kind/namespace/name`` or that matches no object of the plan. A plain ``Kind`` names a
built-in workload kind (core, apps, batch); a custom resource is ``Kind.group``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

from infra.kubeflow.allow import BUILTIN_GROUPS, AllowEntry, parse_allow_entry
from infra.kubeflow.checks.pod_rules import baseline, capability_name, restricted
from infra.kubeflow.checks.pod_shapes import (
    CONTAINER_LISTS,
    DeclaredFields,
    PodPart,
    declared_fields,
    pod_parts,
)
from infra.kubeflow.crds import crds_of
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.settings import PodSecurityLevel

if TYPE_CHECKING:
    from infra.kubeflow.settings import KubeflowSettings

__all__ = [
    "LEVELS",
    "AllowEntry",
    "capability_name",
    "check",
    "check_pod_security",
    "parse_allow_entry",
    "pod_specs",
]

Level = PodSecurityLevel
LEVELS: tuple[Level, ...] = get_args(Level)


def pod_specs(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (path, pod spec) of every mapping with a container list anywhere in `node`."""
    for part in pod_parts(node, path):
        if part.role == "pod" and any(part.node.get(f) for f in CONTAINER_LISTS):
            yield part.path, part.node


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The pod security rules at the stack's level, with its allow list."""
    return [
        *check_pod_security(
            manifests, allow_privileged=settings.allow_privileged, level=settings.pod_security
        ),
        *namespace_labels(manifests, level=settings.pod_security),
    ]


_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
# Pod Security admission's levels, weakest first.
_ADMISSION_LEVELS = ("privileged", "baseline", "restricted")


def namespace_labels(manifests: Sequence[Manifest], *, level: Level) -> list[Finding]:
    """Return a finding for each Namespace whose Pod Security label enforces less than `level`.

    Rule ``policy.namespace-pod-security`` (error): the API server's Pod Security admission
    is the cluster's own gate for pods the plan never sees (a user's, a controller's);
    a Namespace that lowers it below the stack's level opens that gate.
    """
    findings = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if (key.group, key.kind) != ("", "Namespace"):
            continue
        labels = (manifest.get("metadata") or {}).get("labels") or {}
        enforced = labels.get(_ENFORCE_LABEL) if isinstance(labels, Mapping) else None
        if enforced is None:
            continue
        value = str(enforced).strip()
        if value not in _ADMISSION_LEVELS:
            problem = f"{_ENFORCE_LABEL}: {enforced!r} is not a level ({_ADMISSION_LEVELS})"
        elif _ADMISSION_LEVELS.index(value) < _ADMISSION_LEVELS.index(level):
            problem = f"{_ENFORCE_LABEL}: {value} lowers Pod Security below the stack's {level}"
        else:
            continue
        findings.append(Finding.error("policy.namespace-pod-security", key, problem))
    return findings


def check_pod_security(
    manifests: Sequence[Manifest],
    *,
    allow_privileged: Sequence[str] = (),
    level: Level = "baseline",
) -> list[Finding]:
    """Return the pod security and allow-list findings of the final objects.

    An object an `allow_privileged` entry names keeps its findings, as "allowed" ones
    that say so (`kfstack plan` and plan.json list them); they stop nothing.

    Args:
        manifests: the final objects.
        allow_privileged: `Kind[.group]/namespace/name` of objects exempt from the checks.
        level: "baseline" (the default) or "restricted" (baseline plus hardening).

    """
    findings: list[Finding] = []
    entries: list[tuple[str, AllowEntry]] = []
    for raw in allow_privileged:
        try:
            entries.append((raw, parse_allow_entry(raw)))
        except ValueError as exc:
            findings.append(Finding.error("policy.allow-list", None, str(exc)))
    declared = declared_fields(crds_of(manifests).values())
    used: set[str] = set()
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if key.kind == "CustomResourceDefinition":
            continue
        allowed = [raw for raw, entry in entries if entry.matches(key)]
        used.update(allowed)
        fields = declared.get((key.group, key.kind))
        found = _object_findings(manifest, key, level, fields, hint=not allowed)
        if allowed:
            reason = f"kubeflow.allowPrivileged lists {allowed[0]!r}"
            findings.extend(f.allowed(reason) for f in found)
        else:
            findings.extend(found)
    findings.extend(
        Finding.error(
            "policy.allow-list",
            None,
            f"allowPrivileged entry {raw!r} matches no object of the plan; remove it "
            "(entries are Kind/namespace/name, Kind.group for a custom resource)",
        )
        for raw, _ in entries
        if raw not in used
    )
    return findings


_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _unconfined_apparmor(node: Any, path: str = "") -> Iterator[str]:
    """Yield the pod-template annotations that run a container AppArmor-unconfined."""
    if isinstance(node, Mapping):
        annotations = node.get("annotations")
        if isinstance(annotations, Mapping):
            for name, value in annotations.items():
                if str(name).startswith(_APPARMOR_ANNOTATION) and value == "unconfined":
                    yield f"{path or '.'}: annotation {name}: unconfined (baseline)"
        for key, value in node.items():
            yield from _unconfined_apparmor(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _unconfined_apparmor(value, f"{path}[{i}]")


def _object_findings(
    manifest: Manifest,
    key: ObjectKey,
    level: Level,
    declared: DeclaredFields | None,
    *,
    hint: bool,
) -> Iterator[Finding]:
    kind = key.kind if key.group in BUILTIN_GROUPS else f"{key.kind}.{key.group}"
    how = f"; allow it with allowPrivileged: {kind}/{key.namespace}/{key.name}" if hint else ""
    parts: list[PodPart] = list(pod_parts(manifest, declared=declared))
    if parts:
        for problem in _unconfined_apparmor(manifest):
            yield Finding.error("policy.pod-security", key, f"{problem}{how}")
    seen: set[str] = set()
    for part in parts:
        problems = list(baseline(part))
        if level == "restricted":
            problems += list(restricted(part))
        for problem in problems:
            message = f"{part.path}: {problem} ({level}){how}"
            if message not in seen:
                seen.add(message)
                yield Finding.error("policy.pod-security", key, message)
