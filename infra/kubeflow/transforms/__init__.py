"""Transforms of the rendered objects, each `objects, settings -> objects`, in order.

`TRANSFORMS` is the one list of them, applied in this order by `apply_transforms`, the
stage's entry. A transform never mutates its input: a manifest it changes is a new one.
Most shape the objects the install graph and the checks are computed from; one marked
`after_graph` (test mode) changes only what is applied, after the graph is computed, so
the plan keeps the edges of the real release. To add one, write a module with a
`transform` function (or a function of the objects alone, wrapped in `settings_free`)
and list it here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from infra.kubeflow.objects import PlannedObject
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms import (
    aggregation,
    credentials,
    empty_fields,
    gateway,
    images,
    readiness,
    resources,
    scope,
    testmode,
    training,
    users,
)

Transform = Callable[[tuple[PlannedObject, ...], KubeflowSettings], tuple[PlannedObject, ...]]


@dataclass(frozen=True)
class Step:
    """One transform of `TRANSFORMS`: its name, its function, and when it runs."""

    name: str
    run: Transform
    after_graph: bool = False


def settings_free(
    step: Callable[[Sequence[PlannedObject]], tuple[PlannedObject, ...]],
) -> Transform:
    """A transform made of a function of the objects alone (it reads no setting)."""
    return lambda objects, _settings: step(objects)


TRANSFORMS: tuple[Step, ...] = (
    # cluster-scoped objects carry no namespace
    Step("scope", settings_free(scope.strip_cluster_namespaces)),
    # aggregated ClusterRoles: rules left to the API
    Step("aggregation", settings_free(aggregation.without_aggregated_rules)),
    # empty Secret data, ConfigMap data, Role rules: not sent, as the API server stores none
    Step("empty-fields", settings_free(empty_fields.without_empty_fields)),
    Step("credentials", credentials.transform),  # default credentials -> secret tokens
    Step("users", users.transform),  # Dex static users and their Profiles
    Step("training", training.transform),  # kfstack's training runtime (kfstack:training)
    Step("images", images.transform),  # registry mirror
    Step("resources", resources.transform),  # resource requests scaled
    Step("gateway", gateway.transform),  # how the ingress gateway is reached
    Step("readiness", readiness.transform),  # pulumi.com/waitFor (last before the graph)
    # settings.test_mode only: webhooks fail open; after the graph, which keeps their edges
    Step("testmode", testmode.transform, after_graph=True),
)


def apply_transforms(
    objects: tuple[PlannedObject, ...],
    settings: KubeflowSettings,
    *,
    after_graph: bool = False,
    transforms: tuple[Step, ...] = TRANSFORMS,
) -> tuple[PlannedObject, ...]:
    """Return `objects` after every transform of `transforms` of that phase, in order.

    Args:
        objects: the objects to transform.
        settings: what the stack asks for.
        after_graph: False for the transforms the install graph and the checks see, True
            for those that run after the graph is computed.
        transforms: the transforms (default: all of `TRANSFORMS`).

    """
    for step in transforms:
        if step.after_graph == after_graph:
            objects = step.run(objects, settings)
    return objects
