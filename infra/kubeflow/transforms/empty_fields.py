"""Empty fields the API server does not store are left out, as it leaves them out (pure).

Some release objects carry a field whose value is empty, which the API server stores as
absent, so the object read back never matches its inputs and the Kubernetes provider
previews a change after every `up`:

- `data: {}` on a Secret (kustomize's `secretGenerator` with no entries; 26.03's Trainer
  renders it for the Secret its certificate rotator fills at run time): the provider
  previewed a replacement of that Secret, which on a real cluster would also delete the
  certificate the Trainer wrote (found by the engine tier, `kfstack:training` on);
- `rules: []` on a ClusterRole that aggregates into another and has none of its own
  (26.03's `kubeflow-spark-admin`, the web apps' `*-ui-admin`): an update of each, every
  time (found by `bench/bench_install.py --preset full`'s no-change preview).

Left out, the field is the API server's (or a controller's) to fill. Aggregated ClusterRoles
lose their rules whatever they hold (`aggregation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from infra.kubeflow.objects import PlannedObject

RBAC = "rbac.authorization.k8s.io"
#: (group, kind) -> the fields an empty value must not be sent for.
EMPTY_FIELDS = {
    ("", "Secret"): ("data", "stringData"),
    ("", "ConfigMap"): ("data", "binaryData"),
    (RBAC, "ClusterRole"): ("rules",),
    (RBAC, "Role"): ("rules",),
}


def empty_fields(obj: PlannedObject) -> list[str]:
    """The top-level fields of `obj` sent empty that the API server would not store."""
    fields = EMPTY_FIELDS.get((obj.key.group, obj.key.kind), ())
    return [f for f in fields if f in obj.manifest and obj.manifest[f] in ({}, [], None)]


def without_empty_fields(objects: Sequence[PlannedObject]) -> tuple[PlannedObject, ...]:
    """`objects` with no empty field the API server would not store (`EMPTY_FIELDS`)."""
    return tuple(_without_empty(obj) for obj in objects)


def _without_empty(obj: PlannedObject) -> PlannedObject:
    empty = empty_fields(obj)
    if not empty:
        return obj
    return replace(obj, manifest={k: v for k, v in obj.manifest.items() if k not in empty})
