"""The cluster kinds: one module per kind behind one Protocol, listed in one table.

A new kind is one module (see `ClusterKind`) plus one line in `KINDS`. A kind module
validates its own config and imports Pulumi (and its cloud SDK) only inside `provision`,
so config validation, which reads this table, never imports a Pulumi module.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from pydantic.alias_generators import to_camel

if TYPE_CHECKING:
    import pulumi

    from infra.cluster.base import ClusterHandle
    from infra.config import StackConfig
    from infra.config_model import ClusterConfig

# Kind name (`kfstack:cluster.kind`) -> the module that makes or adopts that cluster.
KINDS: dict[str, str] = {
    "kind": "infra.cluster.kind",
    "existing": "infra.cluster.existing",
    "eks": "infra.cluster.eks",
    "gke": "infra.cluster.gke",
}


class ClusterKind(Protocol):
    """What a cluster kind module provides (a module satisfies it by its names).

    Attributes:
        FIELDS: the `kfstack:cluster` fields only some kinds use that this kind reads
            (`region`, `kubeconfig` ...); another kind given one of them is an error.
        GATEWAY_NODE_PORT: the NodePort the Istio ingress gateway gets, when the kind
            maps a host port to it (kind); None keeps the release's ClusterIP.
    """

    FIELDS: frozenset[str]
    GATEWAY_NODE_PORT: int | None

    def problems(self, cluster: ClusterConfig, *, base: Path | None) -> list[str]:
        """What is wrong with `cluster` for this kind (a line each, key paths relative).

        `base` is the project directory when files may be read (before `pulumi up`
        registers anything), None while the schema is validated.
        """
        ...

    def provision(
        self, config: StackConfig, name: str, opts: pulumi.ResourceOptions
    ) -> ClusterHandle:
        """Make (or adopt) the cluster `name`; its resources are children per `opts`."""
        ...


def cluster_kind(kind: str) -> ClusterKind:
    """The module of a kind in `KINDS`.

    Raises:
        KeyError: `kind` is not in the table.

    """
    return cast("ClusterKind", importlib.import_module(KINDS[kind]))


def cluster_problems(cluster: ClusterConfig, *, base: Path | None = None) -> list[str]:
    """Problems of a cluster config: fields of other kinds, then the kind's own checks."""
    users: dict[str, list[str]] = {}
    for name in KINDS:
        for field in sorted(cluster_kind(name).FIELDS):
            users.setdefault(field, []).append(name)
    own = cluster_kind(cluster.kind)
    problems = [
        f"{to_camel(field)} applies only to {_kinds(kinds)}, not {cluster.kind!r}"
        for field, kinds in sorted(users.items())
        if field not in own.FIELDS and getattr(cluster, field) is not None
    ]
    return problems + own.problems(cluster, base=base)


def _kinds(names: list[str]) -> str:
    noun = "kind" if len(names) == 1 else "kinds"
    return f"{noun} {' and '.join(map(repr, names))}"
