"""Which objects `protectData` protects and retains, and why (pure).

Protecting the PVCs and databases alone is not enough: deleting what contains them
deletes them too. A Profile owns its user namespace (the profile controller deletes
the namespace, with its volumes, when the Profile goes); a Namespace that holds a data
object takes that object with it. So the protected set is:

- every object the catalogue marks as holding data (PVCs, databases, object store);
- every PersistentVolumeClaim and PersistentVolume of the plan, whichever component (or
  overlay) brought it: a claim in a user namespace holds data as much as the platform's;
- every Profile (it owns a user namespace and the notebooks' and pipelines' volumes);
- every Namespace of the plan that holds a data object.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from infra.kubeflow.objects import ObjectKey, PlannedObject

__all__ = ["protected_objects"]


_VOLUME_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume"})


def _holds_data(obj: PlannedObject) -> bool:
    return obj.holds_data or (obj.key.group == "" and obj.key.kind in _VOLUME_KINDS)


def protected_objects(objects: Sequence[PlannedObject]) -> dict[ObjectKey, str]:
    """Return key -> why, for every object that `protectData` protects and retains."""
    reasons: dict[ObjectKey, str] = {}
    holding = Counter(o.key.namespace for o in objects if _holds_data(o) and o.key.namespace)
    for obj in objects:
        key = obj.key
        if _holds_data(obj):
            reasons[key] = "holds data (volume, database or object store)"
        elif key.kind == "Profile" and key.group == "kubeflow.org":
            reasons[key] = (
                f"owns the user namespace {key.name!r}: deleting the Profile deletes the "
                "namespace and its volumes"
            )
        elif key.kind == "Namespace" and not key.group and holding[key.name]:
            reasons[key] = f"holds {holding[key.name]} data objects: deleting it deletes them"
    return reasons
