"""Container resource requests scaled by `kubeflow.resourceScale` (dev < 1)."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from infra.kubeflow.objects import PlannedObject
from infra.kubeflow.pods import POD_TEMPLATE_KINDS, mutable_containers
from infra.kubeflow.settings import KubeflowSettings


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Scale every container's CPU and memory request by `settings.resource_scale`."""
    return scale_requests(objects, settings.resource_scale)


def scale_requests(objects: Sequence[PlannedObject], scale: float) -> tuple[PlannedObject, ...]:
    """Return the objects with container CPU and memory requests multiplied by `scale`.

    A scaled request never exceeds the container's limit; results are rounded up to a
    whole millicore and a whole MiB.
    """
    if scale == 1:
        return tuple(objects)
    out = []
    for obj in objects:
        if obj.key.kind not in POD_TEMPLATE_KINDS:
            out.append(obj)
            continue
        manifest = copy.deepcopy(obj.manifest)
        changed = False
        for container in mutable_containers(manifest):
            resources = container.get("resources") or {}
            requests = resources.get("requests") or {}
            limits = resources.get("limits") or {}
            for name in ("cpu", "memory"):
                if name in requests:
                    scaled = _scale_quantity(name, requests[name], scale, limits.get(name))
                    changed = changed or scaled != requests[name]
                    requests[name] = scaled
        out.append(replace(obj, manifest=manifest) if changed else obj)
    return tuple(out)


_SUFFIX = {
    "m": Decimal("0.001"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
}
_QUANTITY = re.compile(r"^([0-9.]+(?:[eE][0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> Decimal | None:
    """Return a Kubernetes quantity (`100m`, `1.5`, `256Mi`) as a number, None if unknown."""
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        return None


def _scale_quantity(name: str, value: object, scale: float, limit: object) -> object:
    amount = parse_quantity(value)
    if amount is None:
        return value
    scaled = amount * Decimal(str(scale))
    cap = parse_quantity(limit) if limit is not None else None
    if cap is not None and scaled > cap:
        scaled = cap
    if name == "cpu":
        return f"{max(1, math.ceil(scaled * 1000))}m"
    return f"{max(1, math.ceil(scaled / 2**20))}Mi"
