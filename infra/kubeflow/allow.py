"""`allowPrivileged` entries: `Kind[.group]/namespace/name` of objects exempt from pod security.

A leaf module (no render, no checks), so that config validation can parse an entry
without importing the core; the pod security check (checks/pod_security.py) matches them.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.kubeflow.objects import ObjectKey

__all__ = ["BUILTIN_GROUPS", "AllowEntry", "parse_allow_entry"]

# A plain Kind names a built-in workload kind of these groups (core, apps, batch).
BUILTIN_GROUPS = frozenset({"", "apps", "batch"})


@dataclass(frozen=True)
class AllowEntry:
    """One `allowPrivileged` entry: `Kind[.group]/namespace/name`."""

    kind: str
    group: str | None
    namespace: str
    name: str

    def matches(self, key: ObjectKey) -> bool:
        """Return whether the entry names `key` (a plain Kind only names built-in kinds)."""
        group_ok = key.group in BUILTIN_GROUPS if self.group is None else key.group == self.group
        return (self.kind, self.namespace, self.name) == (key.kind, key.namespace, key.name) and (
            group_ok
        )


def parse_allow_entry(entry: str) -> AllowEntry:
    """Parse `Kind[.group]/namespace/name`.

    Raises:
        ValueError: not three non-empty parts.

    """
    parts = entry.split("/")
    if len(parts) != 3 or not all(p.strip() for p in parts) or entry != entry.strip():
        raise ValueError(
            f"allowPrivileged entry {entry!r} must be Kind/namespace/name "
            "(e.g. DaemonSet/kube-system/istio-cni-node; Kind.group for a custom resource)"
        )
    kind, _, group = parts[0].partition(".")
    return AllowEntry(kind, group or None, parts[1], parts[2])
