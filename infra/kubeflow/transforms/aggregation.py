"""Aggregated ClusterRoles leave their rules to the API server (pure).

A ClusterRole with an `aggregationRule` has its `rules` written by the controller manager's
clusterrole-aggregation-controller. The release still renders `rules: []` on them; applied
server-side, that empty list claims the field, so the next `pulumi up` fights the controller
(the first real engine run failed its no-change preview on `kubeflow-admin` and
`kubeflow-edit` with "conflict with clusterrole-aggregation-controller: .rules").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from infra.kubeflow.objects import PlannedObject

RBAC_GROUP = "rbac.authorization.k8s.io"


def is_aggregated_role(obj: PlannedObject) -> bool:
    """Whether `obj` is a ClusterRole whose rules the aggregation controller owns."""
    return (
        obj.key.group == RBAC_GROUP
        and obj.key.kind == "ClusterRole"
        and obj.manifest.get("aggregationRule") is not None
    )


def without_aggregated_rules(objects: Sequence[PlannedObject]) -> tuple[PlannedObject, ...]:
    """`objects` with no `rules` on a ClusterRole that has an `aggregationRule`."""
    return tuple(
        replace(obj, manifest={k: v for k, v in obj.manifest.items() if k != "rules"})
        if is_aggregated_role(obj) and "rules" in obj.manifest
        else obj
        for obj in objects
    )
