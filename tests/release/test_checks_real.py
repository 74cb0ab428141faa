"""Policy and schema checks on the real 26.03 render."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kubeflow.checks.pod_security import check_pod_security
from infra.kubeflow.checks.policy import check_policy
from infra.kubeflow.checks.schema import validate_objects
from tests.release.rendered import render_example
from tests.unit.kubeflow.test_policy import rules_by_object


def test_real_render_finds_every_known_default(kubeflow_manifests: Path) -> None:
    findings = check_policy(render_example(kubeflow_manifests))
    defaults = {
        f"{f.key.namespace}/{f.key.name}"
        for f in findings
        if f.rule == "policy.default-credential" and f.key
    }
    assert defaults == {
        "auth/dex-passwords",
        "auth/dex-oidc-client",
        "kubeflow/mlpipeline-minio-artifact",
        "kubeflow/katib-mysql-secrets",
        "kubeflow/mysql-secret",
        "oauth2-proxy/oauth2-proxy-h675gf55ht",
    }
    messages = " ".join(f.message for f in findings)
    for what in ("Dex default", "minio", "cookie secret", "Katib", "empty MySQL"):
        assert what in messages, what
    assert all(f.severity == "error" for f in findings)
    privileged = check_pod_security(render_example(kubeflow_manifests))
    assert ("policy.pod-security", "kube-system/istio-cni-node") in rules_by_object(privileged)
    allowed = check_pod_security(
        render_example(kubeflow_manifests),
        allow_privileged=["DaemonSet/kube-system/istio-cni-node"],
    )
    rules = ("policy.pod-security", "policy.allow-list")
    assert not [f for f in allowed if f.rule in rules and f.severity == "error"]
    assert {f.key.name for f in allowed if f.severity == "allowed" and f.key} == {"istio-cni-node"}


@pytest.mark.parametrize("version", ["1.34", "1.37"])
def test_real_render_is_valid(kubeflow_manifests: Path, version: str) -> None:
    objects = render_example(kubeflow_manifests)
    findings = validate_objects(objects, kubernetes_version=version)
    assert [str(f) for f in findings] == []
