"""Empty data maps of Secrets and ConfigMaps are not sent (the API server stores none)."""

from __future__ import annotations

from typing import Any

from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.transforms.empty_data import without_empty_data


def _object(kind: str, api_version: str = "v1", **fields: Any) -> PlannedObject:
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **fields}
    return PlannedObject(ObjectKey.of(manifest), manifest, "c")


def test_an_empty_secret_loses_its_empty_maps_and_keeps_its_type() -> None:
    secret = _object("Secret", data={}, stringData={}, type="Opaque")
    (out,) = without_empty_data([secret])
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
    out = without_empty_data(kept)
    assert out[0] == kept[0] and out[2] == kept[2]
    assert out[1].manifest["data"] == {"a": "b"} and "binaryData" not in out[1].manifest
