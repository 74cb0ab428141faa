"""What protectData protects and why; aliases for the other versions of a kind."""

from __future__ import annotations

from typing import Any

import pulumi
from rich.console import Console

from infra.components.kubeflow import kind_versions, version_aliases
from infra.kubeflow.graph.protection import protected_objects
from infra.kubeflow.objects import InstallPlan, ObjectKey, PlannedObject
from infra.plan import print_protection


def planned(api_version: str, kind: str, name: str, ns: str = "", **extra: Any) -> PlannedObject:
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **extra}
    if ns:
        manifest["metadata"]["namespace"] = ns
    return PlannedObject(ObjectKey.of(manifest), manifest, "c")


def test_profiles_and_namespaces_holding_data_are_protected_with_a_reason() -> None:
    pvc = planned("v1", "PersistentVolumeClaim", "mysql-pv-claim", "kubeflow")
    objects = [
        PlannedObject(pvc.key, pvc.manifest, "c", holds_data=True),
        planned("v1", "Namespace", "kubeflow"),
        planned("v1", "Namespace", "empty"),
        planned("kubeflow.org/v1", "Profile", "data-science"),
        planned("v1", "ConfigMap", "cfg", "kubeflow"),
    ]
    reasons = protected_objects(objects)
    assert set(reasons) == {
        pvc.key,
        ObjectKey("", "Namespace", "", "kubeflow"),
        ObjectKey("kubeflow.org", "Profile", "", "data-science"),
    }
    profile = ObjectKey("kubeflow.org", "Profile", "", "data-science")
    assert "user namespace 'data-science'" in reasons[profile]
    assert "1 data objects" in reasons[ObjectKey("", "Namespace", "", "kubeflow")]


def test_version_aliases_come_from_the_crd_versions_in_the_plan() -> None:
    crd = planned(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "profiles.kubeflow.org",
        spec={
            "group": "kubeflow.org",
            "names": {"kind": "Profile"},
            "versions": [{"name": "v1"}, {"name": "v1beta1"}],
        },
    )
    versions = kind_versions([crd])
    assert versions == {("kubeflow.org", "Profile"): ("v1", "v1beta1")}
    (alias,) = version_aliases({"apiVersion": "kubeflow.org/v1", "kind": "Profile"}, versions)
    assert isinstance(alias, pulumi.Alias)
    assert alias.type_ == "kubernetes:kubeflow.org/v1beta1:Profile"
    assert version_aliases({"apiVersion": "apps/v1", "kind": "Deployment"}, versions) == []


def test_the_plan_lists_what_is_protected_and_why() -> None:
    pvc = planned("v1", "PersistentVolumeClaim", "data", "kubeflow")
    objects = (PlannedObject(pvc.key, pvc.manifest, "c", holds_data=True),)
    plan = InstallPlan("26.03", ("c",), objects, {}, (), ())
    console = Console(record=True, width=200)
    print_protection(console, plan, protect_data=True)
    text = console.export_text()
    assert "data (1 objects, protected and retained)" in text
    assert "PersistentVolumeClaim kubeflow/data: holds data" in text
    print_protection(console, plan, protect_data=False)
    assert "NOT protected" in console.export_text()
