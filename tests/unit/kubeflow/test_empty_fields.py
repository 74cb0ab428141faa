"""Empty fields the API server stores as absent are not sent (Secret data, Role rules)."""

from __future__ import annotations

from typing import Any

from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.transforms.empty_fields import without_empty_fields


def _object(kind: str, api_version: str = "v1", **fields: Any) -> PlannedObject:
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **fields}
    return PlannedObject(ObjectKey.of(manifest), manifest, "c")


def test_an_empty_secret_loses_its_empty_maps_and_keeps_its_type() -> None:
    secret = _object("Secret", data={}, stringData={}, type="Opaque")
    (out,) = without_empty_fields([secret])
    assert out.manifest == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "x"},
        "type": "Opaque",
    }
    assert secret.manifest["data"] == {}  # the input is not mutated


def test_maps_with_entries_and_other_kinds_are_kept() -> None:
    kept = (
        _object("Secret", data={"k": "dg=="}),
        _object("ConfigMap", data={"a": "b"}, binaryData={}),
        _object("Widget", api_version="example.com/v1", data={}),
    )
    out = without_empty_fields(kept)
    assert out[0] == kept[0] and out[2] == kept[2]
    assert out[1].manifest["data"] == {"a": "b"} and "binaryData" not in out[1].manifest


def test_a_cluster_role_with_no_rules_of_its_own_sends_none() -> None:
    rbac = "rbac.authorization.k8s.io/v1"
    labels = {"rbac.authorization.kubeflow.org/aggregate-to-kubeflow-admin": "true"}
    empty = _object("ClusterRole", api_version=rbac, rules=[])
    empty.manifest["metadata"]["labels"] = labels
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    kept = _object("Role", api_version=rbac, rules=[rule])
    out = without_empty_fields([empty, kept])
    assert "rules" not in out[0].manifest
    assert out[0].manifest["metadata"]["labels"] == labels
    assert out[1] == kept
