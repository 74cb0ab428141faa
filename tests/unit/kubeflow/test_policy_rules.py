"""The policy rules one by one: what they flag, and the release-like objects they leave alone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.kubeflow.checks import admission, exposure, mesh, rbac
from infra.kubeflow.checks.allowed import AllowedException, allow, allowed_exceptions
from infra.kubeflow.checks.pod_security import namespace_labels
from infra.kubeflow.checks.pod_shapes import crd_pod_fields, is_false, is_true, pod_parts
from infra.kubeflow.crds import crd_of
from infra.kubeflow.objects import Finding, ObjectKey, ObjectMatch
from tests.settings import REPO, kubeflow_settings

Manifest = dict[str, Any]
SETTINGS = kubeflow_settings()


@pytest.mark.parametrize("value", [True, "true", "True", " yes", "on", 1, "1"])
def test_true_in_any_spelling(value: object) -> None:
    assert is_true(value) and not is_false(value)


@pytest.mark.parametrize("value", [False, "false", "No", "off", 0, "0"])
def test_false_in_any_spelling(value: object) -> None:
    assert is_false(value) and not is_true(value)


@pytest.mark.parametrize("value", [None, "maybe", 2, [], {}])
def test_neither_true_nor_false(value: object) -> None:
    assert not is_true(value) and not is_false(value)


def test_pod_parts_read_yaml_and_json_strings_but_not_prose() -> None:
    obj = {
        "data": {
            "job.yaml": "containers:\n- name: a\n  image: x\n",
            "patch": '{"hostNetwork": true}',
            "prose": "set the image of the containers in the UI",
        }
    }
    paths = sorted((p.path, p.role) for p in pod_parts(obj))
    assert paths == [
        ("data.job.yaml (parsed string)", "pod"),
        ("data.patch (parsed string)", "pod"),
    ]


def test_the_containers_of_a_pod_are_checked_through_the_pod_once() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "x"}], "volumes": []}}
    assert [(p.path, p.role) for p in pod_parts(pod)] == [("spec", "pod")]


def _crd(properties: Manifest) -> Manifest:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Thing", "plural": "things"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": properties}},
                }
            ],
        },
    }


CONTAINER = {"type": "object", "properties": {"image": {}, "command": {}, "securityContext": {}}}
POD = {"type": "object", "properties": {"containers": {"type": "array", "items": CONTAINER}}}


def test_crd_pod_fields_finds_pods_and_containers_in_lists_and_maps() -> None:
    crd = crd_of(
        _crd(
            {
                "spec": {
                    "type": "object",
                    "properties": {
                        "replicas": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "properties": {"template": {"properties": {"spec": POD}}},
                            },
                        },
                        "steps": {"type": "array", "items": CONTAINER},
                    },
                }
            }
        )
    )
    assert crd is not None
    assert crd_pod_fields(crd) == {
        "spec.replicas.*.template.spec": "pod",
        "spec.replicas.*.template.spec.containers[]": "container",
        "spec.steps[]": "container",
    }


def _role(rules: list[Manifest], kind: str = "ClusterRole", **labels: str) -> Manifest:
    meta: Manifest = {"name": "r", "labels": labels}
    if kind == "Role":
        meta["namespace"] = "kubeflow"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "rules": rules,
    }


@pytest.mark.parametrize(
    "rule",
    [
        {"apiGroups": ["kubeflow.org"], "resources": ["*"], "verbs": ["*"]},  # its own CRDs
        {"apiGroups": ["networking.istio.io"], "resources": ["*"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["*"]},
    ],
)
def test_wildcards_over_a_custom_group_or_named_resources_are_not_escalation(
    rule: Manifest,
) -> None:
    assert rbac.escalations(_role([rule])) == []


def _binding(role: str, subject: Manifest) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "b"},
        "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
        "subjects": [subject],
    }


def test_a_read_only_role_for_every_authenticated_user_is_fine() -> None:
    role = _role([{"apiGroups": ["trainer.kubeflow.org"], "resources": ["x"], "verbs": ["get"]}])
    role["metadata"]["name"] = "reader"
    binding = _binding("reader", {"kind": "Group", "name": "system:authenticated"})
    assert rbac.check([role, binding], SETTINGS) == []
    assert rbac.check(
        [_binding("edit", {"kind": "Group", "name": "system:authenticated"})], SETTINGS
    )


def test_a_platform_service_account_with_cluster_admin_is_not_a_binding_finding() -> None:
    subject = {"kind": "ServiceAccount", "name": "profiles-controller", "namespace": "kubeflow"}
    assert rbac.check([_binding("cluster-admin", subject)], SETTINGS) == []


def _policy(namespace: str, spec: Manifest) -> Manifest:
    return {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": spec,
    }


@pytest.mark.parametrize(
    "spec",
    [
        {},  # deny all
        {"action": "DENY", "rules": [{}]},
        {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/kubeflow/sa/a"]}}]}]},
        {"rules": [{"from": [{"source": {"principals": ["*"]}}]}]},  # any mesh identity
        {"rules": [{"to": [{"operation": {"paths": ["/api/*"]}}]}]},
        {"rules": [{"when": [{"key": "request.auth.claims[email]", "values": ["a@b"]}]}]},
    ],
)
def test_policies_that_do_not_allow_everyone(spec: Manifest) -> None:
    assert mesh.check([_policy("kubeflow", spec)], SETTINGS) == []


def test_an_allow_all_in_a_user_namespace_is_the_users_business() -> None:
    user = SETTINGS.users[0].profile
    assert mesh.check([_policy(user, {"rules": [{}]})], SETTINGS) == []


def test_an_in_cluster_webhook_url_is_left_to_the_graph() -> None:
    config = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "w"},
        "webhooks": [{"name": "w.x", "clientConfig": {"url": "https://w.kubeflow.svc:443/v"}}],
    }
    assert admission.check([config], SETTINGS) == []


def test_the_stacks_gateway_may_be_exposed() -> None:
    gateway = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {"type": "NodePort", "selector": {"app": "istio-ingressgateway"}},
    }
    assert exposure.check([gateway], SETTINGS) == []


def _namespace(level: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "n", "labels": {"pod-security.kubernetes.io/enforce": level}},
    }


def test_namespace_labels_compare_with_the_stacks_level() -> None:
    assert namespace_labels([_namespace("baseline")], level="baseline") == []
    assert namespace_labels([_namespace("restricted")], level="baseline") == []
    (lowered,) = namespace_labels([_namespace("baseline")], level="restricted")
    assert "below the stack's restricted" in lowered.message


def test_an_allowed_exception_keeps_the_finding_with_its_reason() -> None:
    key = ObjectKey("security.istio.io", "AuthorizationPolicy", "istio-system", "gw")
    error = Finding("policy.mesh-allow-all", "error", key, "allows every request")
    entry = AllowedException(
        "policy.mesh-allow-all",
        ObjectMatch.parse("AuthorizationPolicy.security.istio.io istio-system/gw"),
        "the front door",
        ("26.03",),
    )
    (allowed,) = allow([error], "26.03", [entry])
    assert allowed.severity == "allowed" and allowed.message.endswith("allowed: the front door")
    assert allow([error], "v1.10.2", [entry]) == [error]  # another release
    other = Finding("policy.mesh-mtls-disabled", "error", key, "DISABLE")
    assert allow([other], "26.03", [entry]) == [other]  # another rule


def test_the_readme_lists_every_rule_and_every_allowed_exception() -> None:
    readme = (REPO / "README.md").read_text()
    checks = REPO / "infra" / "kubeflow" / "checks"
    rules = set()
    for module in checks.glob("*.py"):
        rules |= set(re.findall(r'"(policy\.[a-z-]+)"', module.read_text()))
    assert len(rules) >= 15
    for rule in sorted(rules):
        assert f"`{rule}`" in readme, rule
    for entry in allowed_exceptions():
        assert f"| `{entry.rule}` | `{entry.match}` |" in readme, entry


def test_a_string_is_read_within_the_safe_yaml_limits() -> None:
    """An alias bomb in a ConfigMap value is left unread, never expanded."""
    bomb = "a: &a [containers, containers]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    assert list(pod_parts({"data": {"bomb.yaml": bomb}})) == []
