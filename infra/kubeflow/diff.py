"""The object-level difference of two plans: what an upgrade (or a config change) does.

Pure: two lists of planned objects in, a `PlanDiff` out. Objects are matched by key;
a changed object gets a short field-level summary and the immutable fields whose change
makes the provider replace it (delete, then create); an object that holds data and would
be removed or replaced is called out, and so is every CRD whose served or storage
versions change (stored custom resources may need a migration).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.kubeflow.crds import crd_of
from infra.kubeflow.errors import PlanError
from infra.kubeflow.objects import Manifest, ObjectKey, PlannedObject

MAX_FIELDS = 8
_MAX_VALUE = 60
# kind -> path prefixes whose change the API server refuses in place (the object is replaced).
IMMUTABLE: Mapping[str, tuple[str, ...]] = {
    "PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.storageClassName",
        "spec.volumeName",
        "spec.volumeMode",
        "spec.selector",
        "spec.dataSource",
    ),
    "PersistentVolume": ("spec.claimRef", "spec.csi", "spec.hostPath", "spec.nfs"),
    "StatefulSet": (
        "spec.selector",
        "spec.volumeClaimTemplates",
        "spec.serviceName",
        "spec.podManagementPolicy",
    ),
    "Deployment": ("spec.selector",),
    "DaemonSet": ("spec.selector",),
    "ReplicaSet": ("spec.selector",),
    "Job": ("spec.selector", "spec.template", "spec.completionMode"),
    "Service": ("spec.clusterIP", "spec.clusterIPs", "spec.ipFamilies"),
}
_IGNORED = ("status",)


@dataclass(frozen=True)
class ObjectChange:
    """One object in both plans, with different manifests."""

    key: ObjectKey
    fields: tuple[str, ...]
    replaced_by: tuple[str, ...]
    holds_data: bool


@dataclass(frozen=True)
class CrdChange:
    """A CRD whose served or storage versions change."""

    key: ObjectKey
    old_served: tuple[str, ...]
    new_served: tuple[str, ...]
    old_storage: str | None
    new_storage: str | None


@dataclass(frozen=True)
class PlanDiff:
    """What going from the `old` plan to the `new` one does, object by object."""

    old_release: str
    new_release: str
    added: tuple[ObjectKey, ...]
    removed: tuple[ObjectKey, ...]
    changed: tuple[ObjectChange, ...]
    crd_versions: tuple[CrdChange, ...]
    data_at_risk: tuple[tuple[ObjectKey, str], ...]
    unchanged: int

    def to_json(self) -> dict[str, Any]:
        """Return the diff as plain JSON data (sorted, so the same diff is the same text)."""
        return {
            "from": self.old_release,
            "to": self.new_release,
            "summary": {
                "added": len(self.added),
                "removed": len(self.removed),
                "changed": len(self.changed),
                "unchanged": self.unchanged,
                "crd_versions": len(self.crd_versions),
                "data_at_risk": len(self.data_at_risk),
            },
            "added": [str(k) for k in self.added],
            "removed": [str(k) for k in self.removed],
            "changed": [
                {
                    "key": str(c.key),
                    "fields": list(c.fields),
                    "replaced_by": list(c.replaced_by),
                    "holds_data": c.holds_data,
                }
                for c in self.changed
            ],
            "crd_versions": [
                {
                    "key": str(c.key),
                    "served": {"from": list(c.old_served), "to": list(c.new_served)},
                    "storage": {"from": c.old_storage, "to": c.new_storage},
                }
                for c in self.crd_versions
            ],
            "data_at_risk": [{"key": str(k), "why": why} for k, why in self.data_at_risk],
        }


def diff_plans(
    old: Sequence[PlannedObject],
    new: Sequence[PlannedObject],
    *,
    old_release: str = "",
    new_release: str = "",
) -> PlanDiff:
    """Return the object-level difference from `old` to `new`."""
    before = {o.key: o for o in old}
    after = {o.key: o for o in new}
    added = tuple(sorted(set(after) - set(before)))
    removed = tuple(sorted(set(before) - set(after)))
    changed: list[ObjectChange] = []
    crds: list[CrdChange] = []
    at_risk = [(k, "holds data and is removed") for k in removed if before[k].holds_data]
    for key in sorted(set(before) & set(after)):
        a, b = before[key].manifest, after[key].manifest
        if _comparable(a) == _comparable(b):
            continue
        paths = list(changed_paths(_comparable(a), _comparable(b)))
        replaced = _replaced_by(key.kind, [p for p, _ in paths])
        holds = before[key].holds_data or after[key].holds_data
        changed.append(ObjectChange(key, _summary(paths), replaced, holds))
        if holds and replaced:
            at_risk.append((key, f"holds data and is replaced ({', '.join(replaced)} change)"))
        crd = _crd_change(key, a, b)
        if crd is not None:
            crds.append(crd)
    return PlanDiff(
        old_release=old_release,
        new_release=new_release,
        added=added,
        removed=removed,
        changed=tuple(changed),
        crd_versions=tuple(crds),
        data_at_risk=tuple(sorted(at_risk)),
        unchanged=len(set(before) & set(after)) - len(changed),
    )


def _comparable(manifest: Manifest) -> Manifest:
    return {k: v for k, v in manifest.items() if k not in _IGNORED}


def changed_paths(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (path, what changed) for every leaf that differs; list items keyed by name."""
    if isinstance(old, list) and isinstance(new, list):
        named_old, named_new = _by_name(old), _by_name(new)
        if named_old is not None and named_new is not None:
            old, new = named_old, named_new
        elif len(old) == len(new):
            old = {f"[{i}]": v for i, v in enumerate(old)}
            new = {f"[{i}]": v for i, v in enumerate(new)}
    if not (isinstance(old, dict) and isinstance(new, dict)):
        yield path, f"{_short(old)} -> {_short(new)}"
        return
    for key in sorted(set(old) | set(new), key=str):
        sub = f"{path}.{key}" if path else str(key)
        if key not in old:
            yield sub, "added"
        elif key not in new:
            yield sub, "removed"
        elif old[key] != new[key]:
            yield from changed_paths(old[key], new[key], sub)


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    named = {f"[{i['name']}]": i for i in items}
    return named if len(named) == len(items) else None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else f"<{len(text)} chars>"


def _summary(paths: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Image changes first (what an upgrade is mostly about), then the rest in path order."""
    paths = sorted(paths, key=lambda p: not p[0].endswith(".image"))
    shown = [f"{p.replace('.[', '[')}: {what}" for p, what in paths[:MAX_FIELDS]]
    if len(paths) > MAX_FIELDS:
        shown.append(f"... and {len(paths) - MAX_FIELDS} more fields")
    return tuple(shown)


def _replaced_by(kind: str, paths: Sequence[str]) -> tuple[str, ...]:
    prefixes = IMMUTABLE.get(kind, ())
    if kind == "PersistentVolumeClaim":
        resized = "spec.resources"
        paths = [p for p in paths if not p.startswith(resized)]
    hits = {pre for pre in prefixes for p in paths if p == pre or p.startswith((pre + ".", pre))}
    return tuple(sorted(hits))


def _crd_change(key: ObjectKey, old: Manifest, new: Manifest) -> CrdChange | None:
    a, b = crd_of(old), crd_of(new)
    if a is None or b is None:
        return None
    if a.served == b.served and a.storage == b.storage:
        return None
    return CrdChange(key, tuple(sorted(a.served)), tuple(sorted(b.served)), a.storage, b.storage)


def load_plan_dir(path: Path) -> tuple[str, tuple[PlannedObject, ...]]:
    """Return (release, objects) of a plan written by `kfstack plan --out`.

    Raises:
        PlanError: the folder has no readable plan.json or an object file is missing.

    """
    summary_file = path / "plan.json"
    try:
        summary = json.loads(summary_file.read_text())
        entries = summary["objects"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanError(
            f"--against {path}: not a plan folder ({summary_file}: {exc})",
            hint="give a folder written by `kfstack plan --out`, a release or a git ref",
        ) from None
    objects = []
    for entry in entries:
        file = path / "objects" / str(entry["file"])
        try:
            manifest = yaml.load(file.read_text(), Loader=yaml.CSafeLoader)
        except (OSError, yaml.YAMLError) as exc:
            raise PlanError(f"--against {path}: cannot read {file}: {exc}") from None
        objects.append(
            PlannedObject(
                key=ObjectKey.of(manifest),
                manifest=manifest,
                component=str(entry.get("component", "")),
                origin=entry.get("origin", "release"),
                holds_data=bool(entry.get("holds_data", False)),
            )
        )
    return str(summary.get("release", "")), tuple(objects)
