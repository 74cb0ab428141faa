"""The registry reachable through the API server's proxy where NetworkPolicies apply."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.kubeflow.checks.schema import validate_objects
from infra.kubeflow.objects import InstallPlan, Manifest, ObjectKey, PlannedObject
from infra.registry.reach import apiserver_proxy_policy

RELEASE_POLICY = "common/kubeflow-namespace/base/kubeflow/model-registry.yaml"
RELEASE_SERVICE = "applications/model-registry/upstream/base/model-registry-service.yaml"


def _plan(*manifests: Manifest) -> InstallPlan:
    objects = tuple(PlannedObject(ObjectKey.of(m), m, "model-registry") for m in manifests)
    return InstallPlan("26.03", ("model-registry",), objects, {}, (), ())


def _release(kubeflow_manifests: Path) -> tuple[Manifest, Manifest]:
    policy = yaml.safe_load((kubeflow_manifests / RELEASE_POLICY).read_text())
    service = yaml.safe_load((kubeflow_manifests / RELEASE_SERVICE).read_text())
    policy["metadata"].setdefault("namespace", "kubeflow")
    service["metadata"]["namespace"] = "kubeflow"
    return policy, service


def test_the_release_policy_blocks_the_proxy_so_one_port_is_opened(
    kubeflow_manifests: Path,
) -> None:
    policy, service = _release(kubeflow_manifests)
    # the release only admits profile namespaces and istio-system: not the API server
    sources = [s for rule in policy["spec"]["ingress"] for s in rule.get("from", [])]
    assert sources and all("namespaceSelector" in s for s in sources)
    opened = apiserver_proxy_policy(_plan(policy, service))
    assert opened is not None
    assert opened["metadata"]["namespace"] == "kubeflow"
    assert opened["spec"]["podSelector"] == {"matchLabels": service["spec"]["selector"]}
    assert opened["spec"]["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]
    findings = validate_objects([opened], kubernetes_version="1.34")
    assert [f for f in findings if f.severity == "error"] == []


def test_nothing_added_without_a_restricting_policy_or_registry(
    kubeflow_manifests: Path,
) -> None:
    policy, service = _release(kubeflow_manifests)
    assert apiserver_proxy_policy(_plan(service)) is None
    assert apiserver_proxy_policy(_plan(policy)) is None
    other = {**policy, "spec": {**policy["spec"], "podSelector": {"matchLabels": {"a": "b"}}}}
    assert apiserver_proxy_policy(_plan(other, service)) is None
