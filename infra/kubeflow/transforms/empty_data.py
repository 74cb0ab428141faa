"""Empty data maps of Secrets and ConfigMaps are left out, as the API server leaves them (pure).

kustomize's `secretGenerator` with no entries renders `data: {}` (26.03's Trainer does, for
the Secret its certificate rotator fills at run time). The API server stores no field for
an empty map, so the object read back never matches the inputs, and the Kubernetes provider
previewed a replacement of that Secret after every `up` (found by the engine tier's
no-change preview, with `kfstack:training` on). On a real cluster each replacement would
also delete the certificate the Trainer wrote. Left out, the field is the controller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from infra.kubeflow.objects import PlannedObject

#: The map fields of each core kind that an empty value must not be sent for.
DATA_FIELDS = {"Secret": ("data", "stringData"), "ConfigMap": ("data", "binaryData")}


def without_empty_data(objects: Sequence[PlannedObject]) -> tuple[PlannedObject, ...]:
    """`objects` with no empty `data`-like map on a Secret or ConfigMap."""
    return tuple(_without_empty(obj) for obj in objects)


def _without_empty(obj: PlannedObject) -> PlannedObject:
    fields = DATA_FIELDS.get(obj.key.kind, ()) if obj.key.group == "" else ()
    empty = [f for f in fields if obj.manifest.get(f) == {}]
    if not empty:
        return obj
    return replace(obj, manifest={k: v for k, v in obj.manifest.items() if k not in empty})
