"""Aggregated ClusterRoles: their rules are left to the aggregation controller."""

from __future__ import annotations

from typing import Any

from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.transforms.aggregation import is_aggregated_role, without_aggregated_rules


def _role(name: str, **fields: Any) -> PlannedObject:
    manifest = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        **fields,
    }
    return PlannedObject(ObjectKey.of(manifest), manifest, "c")


def test_an_aggregated_role_loses_its_empty_rules_and_keeps_the_rest() -> None:
    selector = {"clusterRoleSelectors": [{"matchLabels": {"aggregate-to-admin": "true"}}]}
    role = _role("kubeflow-admin", aggregationRule=selector, rules=[])
    (out,) = without_aggregated_rules([role])
    assert "rules" not in out.manifest
    assert out.manifest["aggregationRule"] == selector
    assert out.key == role.key
    assert role.manifest["rules"] == []  # the input is not mutated


def test_a_plain_role_keeps_its_rules() -> None:
    role = _role("reader", rules=[{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])
    assert without_aggregated_rules([role]) == (role,)
    assert not is_aggregated_role(role)
