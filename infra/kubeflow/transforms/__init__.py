"""Transforms of the rendered objects, each `objects, settings -> objects`, in order.

`TRANSFORMS` is the one list of them, applied in this order by `apply_transforms`.
A transform never mutates its input: a manifest it changes is a new one. To add one,
write a module with a `transform` function (or a function of the objects alone, wrapped in
`settings_free`) and list it here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from infra.kubeflow.objects import PlannedObject
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms import (
    aggregation,
    credentials,
    gateway,
    images,
    readiness,
    resources,
    scope,
    users,
)

Transform = Callable[[tuple[PlannedObject, ...], KubeflowSettings], tuple[PlannedObject, ...]]


def settings_free(
    step: Callable[[Sequence[PlannedObject]], tuple[PlannedObject, ...]],
) -> Transform:
    """A transform made of a function of the objects alone (it reads no setting)."""
    return lambda objects, _settings: step(objects)


TRANSFORMS: tuple[tuple[str, Transform], ...] = (
    (
        "scope",
        settings_free(scope.strip_cluster_namespaces),
    ),  # cluster-scoped objects carry no namespace
    (
        "aggregation",
        settings_free(aggregation.without_aggregated_rules),
    ),  # aggregated ClusterRoles: rules left to the API
    ("credentials", credentials.transform),  # default credentials -> secret tokens
    ("users", users.transform),  # Dex static users and their Profiles
    ("images", images.transform),  # registry mirror
    ("resources", resources.transform),  # resource requests scaled
    ("gateway", gateway.transform),  # how the ingress gateway is reached
    ("readiness", readiness.transform),  # pulumi.com/waitFor (keep last)
)


def apply_transforms(
    objects: tuple[PlannedObject, ...],
    settings: KubeflowSettings,
    transforms: tuple[tuple[str, Transform], ...] = TRANSFORMS,
) -> tuple[PlannedObject, ...]:
    """Return `objects` after every transform of `transforms`, in order."""
    for _name, step in transforms:
        objects = step(objects, settings)
    return objects
