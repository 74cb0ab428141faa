"""Schema validation: built-in kinds against Kubernetes, custom resources against CRDs."""

from __future__ import annotations

import copy
from typing import Any

from infra.kubeflow.checks.schema import supported_kubernetes_versions, validate_objects
from tests.unit.kubeflow.fixtures_graph import crd, custom, deployment, obj

Manifest = dict[str, Any]


def errors(manifests: list[Manifest], version: str = "1.34") -> list[str]:
    return [
        f"{f.rule} {f.key} {f.message}"
        for f in validate_objects(manifests, kubernetes_version=version)
        if f.severity == "error"
    ]


def test_supported_versions_are_what_the_library_ships() -> None:
    versions = supported_kubernetes_versions()
    assert "1.34" in versions and versions == tuple(sorted(versions, key=lambda v: int(v[2:])))


def test_valid_deployment_passes_under_any_version_spelling() -> None:
    for version in ("1.34", "v1.34", "1.34.2"):
        assert validate_objects([deployment("web", "apps")], kubernetes_version=version) == []


def test_deployment_with_wrong_field_type_and_unknown_field() -> None:
    bad = deployment("web", "apps")
    bad["spec"]["replicas"] = "three"
    bad["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "80"}]
    bad["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdat": {}}
    found = errors([bad])
    assert len(found) == 3
    assert any("spec.replicas" in e and "'three' is not of type 'integer'" in e for e in found)
    assert any("containers.0.ports.0.containerPort" in e for e in found)
    assert any("'rollingUpdat' was unexpected" in e for e in found)
    assert all(e.startswith("validate.schema Deployment.apps apps/web") for e in found)


def test_custom_resource_checked_against_its_crd() -> None:
    definition = crd("example.io", "Foo", "foos")
    good = custom("example.io", "Foo", "good", "apps", size=3, note=None)
    too_small = custom("example.io", "Foo", "small", "apps", size=0)
    wrong_type = custom("example.io", "Foo", "typed", "apps", size="big")
    missing = custom("example.io", "Foo", "missing", "apps", note="no size")
    found = errors([definition, good, too_small, wrong_type, missing])
    assert len(found) == 3
    assert "apps/small" in found[0] and "spec.size" in found[0] and "minimum" in found[0]
    assert "apps/typed" in found[1] and "'big' is not of type 'integer'" in found[1]
    assert "apps/missing" in found[2] and "'size' is a required property" in found[2]


def test_custom_resource_of_a_version_its_crd_does_not_serve() -> None:
    foo = custom("example.io", "Foo", "f", "apps")
    foo["apiVersion"] = "example.io/v2"
    (found,) = errors([crd("example.io", "Foo", "foos"), foo])
    assert "validate.crd-version" in found and "served: v1" in found


def test_what_cannot_be_validated_is_a_warning() -> None:
    findings = validate_objects(
        [custom("unknown.io", "Thing", "t", "apps")], kubernetes_version="1.34"
    )
    assert [(f.rule, f.severity) for f in findings] == [("validate.no-schema", "warning")]


def test_unsupported_version_names_the_supported_ones() -> None:
    definition = crd("example.io", "Foo", "foos")
    findings = validate_objects(
        [deployment("web", "apps"), definition, custom("example.io", "Foo", "s", "a", size=0)],
        kubernetes_version="1.99",
    )
    assert findings[0].rule == "validate.kubernetes-version" and findings[0].key is None
    assert "1.99" in findings[0].message and "1.34" in findings[0].message
    # custom resources are still checked against their CRD
    assert [f.rule for f in findings[1:]] == ["validate.schema"]


def test_duplicate_objects_are_errors() -> None:
    cm = obj("ConfigMap", "c", "n")
    (found,) = errors([cm, copy.deepcopy(cm)])
    assert "validate.duplicate" in found


def test_crd_itself_is_validated() -> None:
    definition = crd("example.io", "Foo", "foos")
    definition["spec"]["scope"] = 5
    definition["spec"]["versions"][0]["servd"] = True
    found = errors([definition])
    assert len(found) == 2
    assert any("spec.scope" in e for e in found) and any(
        "'servd' was unexpected" in e for e in found
    )


def test_prevalidated_objects_give_the_same_findings() -> None:
    from infra.kubeflow.checks.schema import Prevalidated

    bad = deployment("web", "apps")
    bad["spec"]["replicas"] = "three"
    good = deployment("api", "apps")
    memo = Prevalidated("1.34")
    memo.add([bad, good])
    assert memo.get(bad) and memo.get(good) == []
    fixed = copy.deepcopy(bad)
    fixed["spec"]["replicas"] = 1
    assert memo.get(fixed) is None  # a changed object (a new dict) is validated again
    for manifests in ([bad, good], [fixed, good]):
        plain = validate_objects(manifests, kubernetes_version="1.34")
        assert validate_objects(manifests, kubernetes_version="1.34", prevalidated=memo) == plain
