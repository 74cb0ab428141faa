"""The cluster kinds: one module per kind, listed in one table.

A new kind is one module plus one line in `KINDS`. Its module defines `CONFIG`, a model
derived from `ClusterBase` holding the kind's own `kfstack:cluster` fields, checks and
`provision` step; everything else (the config union, which fields belong to which kind,
the cloud SDK extras, the README's table) is read from these models. A kind module
imports Pulumi (and its cloud SDK) only inside `provision`, so config validation, which
reads this table, never imports a Pulumi module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from infra.cluster.base import ClusterBase

__all__ = [
    "DEFAULT_KIND",
    "KINDS",
    "ClusterKind",
    "cluster_kind",
    "kind_models",
    "secret_fields",
    "validate_cluster",
]

# Kind name (`kfstack:cluster.kind`) -> the module that makes or adopts that cluster.
KINDS: dict[str, str] = {
    "kind": "infra.cluster.kind",
    "existing": "infra.cluster.existing",
    "eks": "infra.cluster.eks",
    "gke": "infra.cluster.gke",
    "minikube": "infra.cluster.minikube",
}
# The kind of a stack that names none: a local cluster.
DEFAULT_KIND = "kind"


class ClusterKind(Protocol):
    """What a cluster kind module provides (a module satisfies it by its names).

    Attributes:
        CONFIG: the kind's config model: its fields, its checks, its provision step.
    """

    CONFIG: type[ClusterBase]


def cluster_kind(kind: str) -> ClusterKind:
    """The module of a kind in `KINDS`.

    Raises:
        KeyError: `kind` is not in the table.

    """
    return cast("ClusterKind", importlib.import_module(KINDS[kind]))


def kind_models() -> dict[str, type[ClusterBase]]:
    """Kind name -> its config model, for every kind in `KINDS`."""
    return {name: cluster_kind(name).CONFIG for name in KINDS}


def secret_fields() -> frozenset[str]:
    """Cluster fields (camelCase) some kind marks as secrets (`json_schema_extra` secret)."""
    return frozenset(
        to_camel(name)
        for model in kind_models().values()
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")
    )


def _error(
    loc: tuple[str | int, ...], message: str, value: Any, kind: str = "value_error"
) -> InitErrorDetails:
    # The message is data, never a template: braces in it stay as they are.
    error = PydanticCustomError(kind, "{message}", {"message": message})
    return {"type": error, "loc": loc, "input": value}


def _keys(model: type[ClusterBase]) -> set[str]:
    return {key for name in model.model_fields for key in (name, to_camel(name))}


def _foreign_fields(
    data: Mapping[str, Any], kind: str, models: Mapping[str, type[ClusterBase]]
) -> list[InitErrorDetails]:
    """Keys of `data` that other kinds have and this one has not: whose they are."""
    own = _keys(models[kind])
    errors = []
    for key, value in data.items():
        owners = [name for name, model in models.items() if key in _keys(model) - own]
        if owners:
            noun = "kind" if len(owners) == 1 else "kinds"
            listed = " and ".join(map(repr, owners))
            message = f"applies only to {noun} {listed}, not {kind!r}"
            errors.append(_error((to_camel(key),), message, value))
    return errors


def _own_errors(
    data: Mapping[str, Any], kind: str, model: type[ClusterBase]
) -> tuple[ClusterBase | None, list[InitErrorDetails]]:
    """Validate `data` with the kind's model; a missing field says which kind needs it."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors: list[InitErrorDetails] = []
        for item in exc.errors():
            loc = tuple(str(part) for part in item["loc"])
            if item["type"] == "missing" and len(loc) == 1:
                fields = {to_camel(name): info for name, info in model.model_fields.items()}
                description = fields[to_camel(loc[0])].description
                what = f" ({description})" if description else ""
                message = f"{to_camel(loc[0])}{what} is required when kind is {kind!r}"
                errors.append(_error((), message, data))
            else:
                errors.append(_error(item["loc"], item["msg"], item["input"], item["type"]))
        return None, errors


def validate_cluster(value: Any, handler: Callable[[Any], ClusterBase]) -> ClusterBase:
    """Validate `kfstack:cluster` with the model of its kind (a wrap validator).

    Every problem is reported at once: an unknown kind, fields of other kinds (named
    with the kinds that have them), then the kind's own checks.

    Raises:
        ValidationError: listing every problem, key paths relative to the cluster.

    """
    if isinstance(value, ClusterBase):
        return handler(value)
    if not isinstance(value, Mapping):
        return handler(value)
    kind = str(value.get("kind", DEFAULT_KIND))
    if kind not in KINDS:
        message = f"unknown cluster kind {kind!r} (allowed: {', '.join(KINDS)})"
        raise ValidationError.from_exception_data("cluster", [_error(("kind",), message, kind)])
    models = kind_models()
    foreign = _foreign_fields(value, kind, models)
    theirs = {e["loc"] for e in foreign}
    own_data = {k: v for k, v in value.items() if (to_camel(k),) not in theirs}
    cluster, errors = _own_errors({**own_data, "kind": kind}, kind, models[kind])
    if foreign or errors or cluster is None:
        raise ValidationError.from_exception_data("cluster", [*foreign, *errors])
    return cluster
