"""What a CustomResourceDefinition says, read once: names, scope, versions, schemas.

The install graph (CRD edges, webhook resources), the scope transform, schema
validation and the upgrade diff all read CRDs through `crd_of` / `crds_of`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.kubeflow.objects import ObjectKey

CRD_GROUP = "apiextensions.k8s.io"


@dataclass(frozen=True)
class CrdInfo:
    """One CRD's facts.

    Attributes:
        key: the CRD object's own key.
        group: the API group it defines.
        kind: the kind it defines.
        plural: its resource name.
        namespaced: scope Namespaced (else Cluster).
        served: versions served.
        storage: the storage version (None if none is marked).
        schemas: served version -> openAPIV3Schema (None when the version has none).

    """

    key: ObjectKey
    group: str
    kind: str
    plural: str
    namespaced: bool
    served: frozenset[str]
    storage: str | None
    schemas: Mapping[str, Mapping[str, Any] | None]


def crd_of(manifest: Mapping[str, Any]) -> CrdInfo | None:
    """Return the facts of a CRD manifest, None for any other object."""
    if manifest.get("kind") != "CustomResourceDefinition":
        return None
    spec = manifest.get("spec") or {}
    names = spec.get("names") or {}
    served: set[str] = set()
    storage = None
    schemas: dict[str, Mapping[str, Any] | None] = {}
    for version in spec.get("versions") or ():
        name = str(version.get("name"))
        if version.get("storage"):
            storage = name
        if version.get("served", True):
            served.add(name)
            schemas[name] = (version.get("schema") or {}).get("openAPIV3Schema")
    return CrdInfo(
        key=ObjectKey.of(manifest),
        group=str(spec.get("group", "")),
        kind=str(names.get("kind", "")),
        plural=str(names.get("plural", "")),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        served=frozenset(served),
        storage=storage,
        schemas=schemas,
    )


def crds_of(manifests: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], CrdInfo]:
    """Return (group, kind) -> CrdInfo for every CRD among `manifests`."""
    found = {}
    for manifest in manifests:
        info = crd_of(manifest)
        if info is not None:
            found[(info.group, info.kind)] = info
    return found
