"""Policy: default credentials, secret tokens, privileged pods."""

from __future__ import annotations

import base64
from typing import Any

import bcrypt
import pytest

from infra.kubeflow.checks.pod_security import check_pod_security
from infra.kubeflow.checks.policy import check_policy
from infra.kubeflow.objects import Finding, ObjectKey, secret_token
from tests.unit.kubeflow.fixtures_graph import deployment, obj

Manifest = dict[str, Any]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(name: str, ns: str, **fields: Any) -> Manifest:
    return obj("Secret", name, ns, **fields)


def rules_by_object(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f"{f.key.namespace}/{f.key.name}" if f.key else "") for f in findings}


def cleaned() -> list[Manifest]:
    """A small plan as the transforms leave it: tokens in Secrets, nothing privileged."""
    return [
        secret(
            "dex-passwords",
            "auth",
            stringData={"DEX_USER_PASSWORD": secret_token("dex-user-password-hash")},
        ),
        secret(
            "oauth2-proxy",
            "oauth2-proxy",
            data={"cookie-secret": b64(secret_token("oauth2-proxy-cookie-secret"))},
        ),
        secret(
            "mysql-secret", "kubeflow", data={"password": secret_token("pipelines-db-password")}
        ),
        secret("empty", "kubeflow"),
        deployment("web", "kubeflow", spec={"containers": [{"name": "web", "image": "w:1"}]}),
        obj("ConfigMap", "settings", "kubeflow", data={"password_hint": "see the vault"}),
    ]


def test_cleaned_plan_has_no_finding() -> None:
    assert check_policy(cleaned()) == []


@pytest.mark.parametrize(
    "value",
    ["12341234", "user:12341234", "minio123", "7d16fee92f8d11b8940b081b3f8b8acb"],
)
def test_default_credentials_anywhere(value: str) -> None:
    config = obj("ConfigMap", "cfg", "kubeflow", data={"config.yaml": f"password: {value}"})
    findings = check_policy([config])
    assert [f.rule for f in findings] == ["policy.default-credential"]
    assert "data.config.yaml" in findings[0].message


def test_rehashed_default_password_is_found() -> None:
    hashed = bcrypt.hashpw(b"12341234", bcrypt.gensalt(rounds=4)).decode()
    other = bcrypt.hashpw(b"not-the-default", bcrypt.gensalt(rounds=4)).decode()
    config = obj("ConfigMap", "dex", "auth", data={"config.yaml": f"hash: {hashed}"})
    fine = obj("ConfigMap", "dex2", "auth", data={"config.yaml": f"hash: {other}"})
    assert [f.rule for f in check_policy([config, fine])] == ["policy.default-credential"]


def test_secret_values_must_be_tokens() -> None:
    bad = [
        secret("a", "n", stringData={"k": "plain"}),
        secret("b", "n", data={"k": b64("plain")}),
        secret("c", "n", stringData={"k": f"prefix-{secret_token('x')}"}),
        secret("d", "n", data={"k": "not base64!"}),
    ]
    findings = [f for f in check_policy(bad) if f.rule == "policy.secret-not-token"]
    assert len(findings) == 4
    assert [f.key.name for f in findings if f.key] == ["a", "b", "c", "d"]


def test_token_outside_a_secret_is_an_error() -> None:
    token = secret_token("pipelines-db-password")
    config = obj("ConfigMap", "cfg", "n", data={"url": f"mysql://root:{token}@db"})
    (finding,) = check_policy([config])
    assert (finding.rule, finding.severity) == ("policy.token-outside-secret", "error")
    assert finding.key == ObjectKey("", "ConfigMap", "n", "cfg")


@pytest.mark.parametrize(
    ("pod_spec", "what"),
    [
        ({"containers": [{"name": "c", "securityContext": {"privileged": True}}]}, "privileged"),
        (
            {
                "initContainers": [
                    {"name": "i", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}
                ]
            },
            "SYS_ADMIN",
        ),
        ({"hostNetwork": True, "containers": [{"name": "c"}]}, "hostNetwork"),
        ({"hostPID": True, "containers": [{"name": "c"}]}, "hostPID"),
    ],
)
def test_privileged_pods(pod_spec: Manifest, what: str) -> None:
    workload = deployment("agent", "ops", spec=pod_spec)
    (finding,) = check_pod_security([workload])
    assert finding.rule == "policy.pod-security" and what in finding.message
    (allowed,) = check_pod_security([workload], allow_privileged=["Deployment/ops/agent"])
    assert allowed.severity == "allowed" and what in allowed.message
    assert "allowPrivileged lists 'Deployment/ops/agent'" in allowed.message
    other = check_pod_security([workload], allow_privileged=["Deployment/other/agent"])
    assert sorted(f.rule for f in other) == ["policy.allow-list", "policy.pod-security"]


def test_unprivileged_security_context_is_fine() -> None:
    spec = {
        "containers": [
            {
                "name": "c",
                "securityContext": {
                    "privileged": False,
                    "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                },
            }
        ]
    }
    assert check_pod_security([deployment("web", "apps", spec=spec)]) == []
