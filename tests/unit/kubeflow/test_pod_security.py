"""Pod Security Standards checks, allow-list entries and database passwords in env."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, parse_settings
from infra.kubeflow.checks.pod_security import (
    capability_name,
    check_pod_security,
    parse_allow_entry,
    pod_specs,
)
from infra.kubeflow.checks.secrets_scan import database_password_problem
from infra.kubeflow.objects import ObjectKey
from tests.unit.kubeflow.fixtures_graph import deployment


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("sys_admin", "SYS_ADMIN"),
        ("CAP_SYS_ADMIN", "SYS_ADMIN"),
        (" cap_bpf", "BPF"),
        ("all", "ALL"),
    ],
)
def test_capabilities_are_normalised_as_the_runtime_grants_them(raw: str, name: str) -> None:
    assert capability_name(raw) == name


@pytest.mark.parametrize(
    "entry", ["/nons", "kube-system/istio-cni-node", "a/b/c/d", "A//c", " A/b/c"]
)
def test_malformed_allow_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="Kind/namespace/name"):
        parse_allow_entry(entry)
    (finding,) = check_pod_security([], allow_privileged=[entry])
    assert (finding.rule, finding.severity) == ("policy.allow-list", "error")


def test_stack_config_refuses_an_old_style_entry() -> None:
    raw = {"kfstack:kubeflow": {"allowPrivileged": ["kube-system/istio-cni-node"]}}
    with pytest.raises(ConfigError, match="Kind/namespace/name"):
        parse_settings(raw, stack="dev", require_secrets=False)


def test_an_entry_matching_nothing_is_an_error() -> None:
    findings = check_pod_security([deployment("a", "n")], allow_privileged=["Deployment/n/b"])
    assert [(f.rule, f.key) for f in findings] == [("policy.allow-list", None)]
    assert "matches no object" in findings[0].message


def test_a_plain_kind_only_names_built_in_kinds() -> None:
    entry = parse_allow_entry("DaemonSet/kube-system/agent")
    custom = parse_allow_entry("Agent.example.com/kube-system/agent")
    assert custom.group == "example.com" and custom.kind == "Agent"
    assert entry.matches(ObjectKey("apps", "DaemonSet", "kube-system", "agent"))
    assert not entry.matches(ObjectKey("evil.io", "DaemonSet", "kube-system", "agent"))
    assert custom.matches(ObjectKey("example.com", "Agent", "kube-system", "agent"))


def test_pod_specs_are_found_by_shape_in_any_object() -> None:
    notebook = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "spec": {"template": {"spec": {"containers": [{"name": "nb"}]}}},
        "status": {"containers": "not a list of containers"},
    }
    assert [path for path, _ in pod_specs(notebook)] == ["spec.template.spec"]


def test_baseline_passes_ordinary_pods_and_restricted_is_opt_in() -> None:
    spec = {"containers": [{"name": "c", "image": "i", "securityContext": {}}]}
    assert check_pod_security([deployment("web", "n", spec=spec)]) == []
    restricted = check_pod_security([deployment("web", "n", spec=spec)], level="restricted")
    messages = " ".join(f.message for f in restricted)
    for what in ("allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile", "drop ALL"):
        assert what in messages
    hardened = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["all"], "add": ["NET_BIND_SERVICE"]},
                },
            }
        ],
    }
    assert check_pod_security([deployment("web", "n", spec=hardened)], level="restricted") == []


@pytest.mark.parametrize(
    ("spec", "what"),
    [
        ({"hostPID": True}, "hostPID"),
        ({"hostIPC": True}, "hostIPC"),
        ({"securityContext": {"sysctls": [{"name": "kernel.msgmax"}]}}, "unsafe sysctl"),
        ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "Unconfined"),
    ],
)
def test_other_baseline_rules(spec: dict[str, object], what: str) -> None:
    workload = deployment("w", "n", spec={"containers": [{"name": "c"}], **spec})
    (finding,) = check_pod_security([workload])
    assert what in finding.message and finding.key is not None and finding.key.name == "w"


@pytest.mark.parametrize(
    ("name", "value", "bad"),
    [
        ("MYSQL_ALLOW_EMPTY_PASSWORD", "true", True),
        ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes", True),
        ("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1", True),
        ("POSTGRES_HOST_AUTH_METHOD", "trust", True),
        ("MYSQL_ROOT_PASSWORD", "", True),
        ("DB_PASSWORD", "test", True),
        ("POSTGRES_PASSWORD", "postgres", True),
        ("MYSQL_ALLOW_EMPTY_PASSWORD", "false", False),
        ("MYSQL_ROOT_PASSWORD", "x9!Tq-long-random", False),
        ("PASSWORD_FILE", "", False),
    ],
)
def test_database_passwords_in_env(name: str, value: str, bad: bool) -> None:
    assert (database_password_problem(name, value) is not None) is bad
