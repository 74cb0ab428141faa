"""Install graph: edge rules on tiny manifests (the real render: tests/release/)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra.kubeflow.graph import (
    CycleError,
    critical_path,
    explain_edges,
    infer_edges,
    install_waves,
)
from infra.kubeflow.graph.webhooks import selector_matches
from infra.kubeflow.objects import DeclaredEdge, ObjectKey, ObjectMatch
from infra.kubeflow.transforms.readiness import add_readiness_annotations
from tests.unit.kubeflow.fixtures_graph import (
    crd,
    custom,
    deployment,
    key,
    namespace,
    obj,
    rule,
    service,
    webhook_config,
)

Manifest = dict[str, Any]
HOOKS = "hooks"
ADMISSION = "admissionregistration.k8s.io"
INJECT = "cert-manager.io/inject-ca-from"
WAIT_FOR = "pulumi.com/waitFor"


def hook_backend() -> list[Manifest]:
    """A webhook's namespace, Service and Deployment (the Service selects app=hook)."""
    return [
        namespace(HOOKS),
        service("hook-svc", HOOKS, {"app": "hook"}),
        deployment("hook", HOOKS, {"app": "hook"}),
    ]


# --- selectors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "labels", "expected"),
    [
        ({"key": "a", "operator": "In", "values": ["1", "2"]}, {"a": "2"}, True),
        ({"key": "a", "operator": "In", "values": ["1"]}, {"a": "2"}, False),
        ({"key": "a", "operator": "In", "values": ["1"]}, {}, False),
        ({"key": "a", "operator": "NotIn", "values": ["1"]}, {"a": "2"}, True),
        ({"key": "a", "operator": "NotIn", "values": ["1"]}, {"a": "1"}, False),
        ({"key": "a", "operator": "NotIn", "values": ["1"]}, {}, True),
        ({"key": "a", "operator": "Exists"}, {"a": ""}, True),
        ({"key": "a", "operator": "Exists"}, {"b": "1"}, False),
        ({"key": "a", "operator": "DoesNotExist"}, {"b": "1"}, True),
        ({"key": "a", "operator": "DoesNotExist"}, {"a": "1"}, False),
    ],
)
def test_match_expressions(expression: Manifest, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches({"matchExpressions": [expression]}, labels) is expected


def test_selector_combines_labels_and_expressions_and_empty_selects_all() -> None:
    selector = {
        "matchLabels": {"tier": "web"},
        "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}],
    }
    assert selector_matches(selector, {"tier": "web", "env": "dev"})
    assert not selector_matches(selector, {"tier": "web", "env": "prod"})
    assert not selector_matches(selector, {"env": "dev"})
    assert selector_matches(None, {}) and selector_matches({}, {"x": "y"})
    with pytest.raises(ValueError, match="Maybe"):
        selector_matches({"matchExpressions": [{"key": "a", "operator": "Maybe"}]}, {})


# --- edge rules ---------------------------------------------------------------------------


def test_custom_resource_depends_on_its_crd_and_namespace() -> None:
    objects = [
        namespace("apps"),
        crd("example.io", "Foo", "foos"),
        custom("example.io", "Foo", "f", "apps"),
        custom("other.io", "Foo", "g", "elsewhere"),
    ]
    edges = infer_edges(objects)
    assert edges[key(objects[2])] == {key(objects[1]), key(objects[0])}
    assert edges[key(objects[3])] == frozenset()  # no CRD, no Namespace in the plan
    assert set(edges) == {key(o) for o in objects}


def test_intercepted_object_depends_on_webhook_and_its_workload_not_its_service() -> None:
    hook = webhook_config("foo-hook", rules=[rule(["example.io"], ["foos"])])
    foo_crd = crd("example.io", "Foo", "foos")
    objects = [*hook_backend(), hook, foo_crd, custom("example.io", "Foo", "f", "apps")]
    edges = infer_edges(objects)
    foo = key(objects[-1])
    assert key(hook) in edges[foo]
    assert ObjectKey("apps", "Deployment", HOOKS, "hook") in edges[foo]
    assert ObjectKey("", "Service", HOOKS, "hook-svc") not in edges[foo]
    # The configuration waits for its backend; the backend never waits for it.
    assert ObjectKey("apps", "Deployment", HOOKS, "hook") in edges[key(hook)]
    assert key(hook) not in edges[ObjectKey("apps", "Deployment", HOOKS, "hook")]


@pytest.mark.parametrize(
    ("hook_rule", "policy", "intercepted"),
    [
        (rule(["example.io"], ["foos"]), "Fail", True),
        (rule(["example.io"], ["foos"]), None, True),  # failurePolicy defaults to Fail
        (rule(["example.io"], ["foos"]), "Ignore", False),
        (rule(["*"], ["*"]), "Fail", True),
        (rule(["example.io"], ["*/*"]), "Fail", True),
        (rule(["example.io"], ["foos/status"]), "Fail", False),  # a subresource only
        (rule(["example.io"], ["bars"]), "Fail", False),
        (rule(["other.io"], ["foos"]), "Fail", False),
        (rule(["example.io"], ["foos"], operations=["DELETE"]), "Fail", False),
        (rule(["example.io"], ["foos"], operations=["*"]), "Fail", True),
        (rule(["example.io"], ["foos"], scope="Cluster"), "Fail", False),
        (rule(["example.io"], ["foos"], scope="Namespaced"), "Fail", True),
    ],
)
def test_webhook_rule_matching(hook_rule: Manifest, policy: str | None, intercepted: bool) -> None:
    hook = webhook_config("foo-hook", rules=[hook_rule], failure_policy=policy)
    foo = custom("example.io", "Foo", "f", "apps")
    edges = infer_edges([*hook_backend(), hook, crd("example.io", "Foo", "foos"), foo])
    assert (key(hook) in edges[key(foo)]) is intercepted


def test_cluster_scope_rule_and_cluster_scoped_objects_ignore_namespace_selector() -> None:
    hook = webhook_config(
        "bar-hook",
        rules=[rule(["example.io"], ["bars"], scope="Cluster")],
        namespace_selector={"matchLabels": {"never": "there"}},
    )
    bar = custom("example.io", "Bar", "b")
    bar_crd = crd("example.io", "Bar", "bars", scope="Cluster")
    edges = infer_edges([*hook_backend(), hook, bar_crd, bar])
    assert key(hook) in edges[key(bar)]


def test_version_match_policy() -> None:
    exact = rule(["example.io"], ["foos"])
    exact["apiVersions"] = ["v2"]
    hook = webhook_config("foo-hook", rules=[exact])
    foo = custom("example.io", "Foo", "f", "apps")
    objects = [*hook_backend(), hook, crd("example.io", "Foo", "foos"), foo]
    assert key(hook) not in infer_edges(objects)[key(foo)]  # CRD serves only v1
    exact["apiVersions"] = ["v1"]
    assert key(hook) in infer_edges(objects)[key(foo)]


def sidecar_injector(
    namespace_selector: Manifest | None = None, object_selector: Manifest | None = None
) -> Manifest:
    return webhook_config(
        "istio-sidecar-injector",
        rules=[rule([""], ["pods"], operations=["CREATE"])],
        service_ref=("istio-system", "istiod"),
        mutating=True,
        namespace_selector=namespace_selector,
        object_selector=object_selector,
    )


def istio() -> list[Manifest]:
    return [
        namespace("istio-system", **{"istio-injection": "disabled"}),
        service("istiod", "istio-system", {"app": "istiod"}),
        deployment("istiod", "istio-system", {"app": "istiod"}),
    ]


def test_pods_of_injected_namespaces_depend_on_sidecar_injector_and_istiod() -> None:
    injector = sidecar_injector(
        namespace_selector={"matchLabels": {"istio-injection": "enabled"}},
        object_selector={
            "matchExpressions": [
                {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}
            ]
        },
    )
    injected = deployment("web", "kubeflow")
    opted_out = deployment("db", "kubeflow", {"app": "db", "sidecar.istio.io/inject": "false"})
    plain = deployment("dex", "auth")
    objects = [
        *istio(),
        injector,
        namespace("kubeflow", **{"istio-injection": "enabled"}),
        namespace("auth"),
        injected,
        opted_out,
        plain,
    ]
    edges = infer_edges(objects)
    istiod = ObjectKey("apps", "Deployment", "istio-system", "istiod")
    assert {key(injector), istiod} <= edges[key(injected)]
    assert key(injector) not in edges[key(opted_out)]
    assert key(injector) not in edges[key(plain)]
    assert key(injector) not in edges[istiod]


def test_namespace_not_in_plan_only_has_its_name_label() -> None:
    injector = sidecar_injector(
        namespace_selector={"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    )
    cni = deployment("cni", "kube-system")
    other = deployment("other", "default")
    edges = infer_edges([*istio(), injector, cni, other])
    assert key(injector) in edges[key(cni)]
    assert key(injector) not in edges[key(other)]


def test_webhook_never_waits_on_its_own_backend() -> None:
    """A webhook that intercepts pods and ServiceAccounts of its own namespace: no cycle."""
    hook = webhook_config(
        "self-hook",
        rules=[rule([""], ["pods", "serviceaccounts", "configmaps"], operations=["CREATE"])],
        mutating=True,
    )
    backend = deployment(
        "hook",
        HOOKS,
        {"app": "hook"},
        spec={
            "serviceAccountName": "hook-sa",
            "containers": [{"name": "main", "image": "example/hook:1"}],
            "volumes": [{"name": "config", "configMap": {"name": "hook-config"}}],
        },
    )
    sa = obj("ServiceAccount", "hook-sa", HOOKS)
    config = obj("ConfigMap", "hook-config", HOOKS)
    unrelated = obj("ConfigMap", "other", HOOKS)
    svc = service("hook-svc", HOOKS, {"app": "hook"})
    objects = [namespace(HOOKS), svc, backend, sa, config, unrelated, hook]
    edges = infer_edges(objects)
    for own in (backend, sa, config):
        assert key(hook) not in edges[key(own)], key(own)
    assert key(hook) in edges[key(unrelated)]
    install_waves(list(edges), edges)  # no CycleError


def test_cert_manager_injection_and_issuer() -> None:
    cert = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "serving-cert", "namespace": "apps"},
        "spec": {"secretName": "hook-tls", "issuerRef": {"name": "selfsigned", "kind": "Issuer"}},
    }
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "selfsigned", "namespace": "apps"},
        "spec": {"selfSigned": {}},
    }
    hook = webhook_config(
        "foo-hook",
        rules=[rule(["example.io"], ["foos"])],
        annotations={"cert-manager.io/inject-ca-from": "apps/serving-cert"},
    )
    backend = deployment(
        "hook",
        HOOKS,
        {"app": "hook"},
        spec={
            "containers": [{"name": "main", "image": "example/hook:1"}],
            "volumes": [{"name": "tls", "secret": {"secretName": "hook-tls"}}],
        },
    )
    backend["metadata"]["namespace"] = "apps"
    objects = [cert, issuer, hook, backend, service("hook-svc", "apps", {"app": "hook"})]
    hook["webhooks"][0]["clientConfig"]["service"]["namespace"] = "apps"
    edges = infer_edges(objects)
    assert key(cert) in edges[key(hook)]
    assert key(issuer) in edges[key(cert)]
    assert key(cert) in edges[key(backend)]  # its pods mount the Secret the Certificate issues


def test_pod_needs_service_account_rbac_config_and_secrets() -> None:
    app = deployment(
        "app",
        "apps",
        spec={
            "serviceAccountName": "app-sa",
            "containers": [
                {
                    "name": "main",
                    "image": "example/app:1",
                    "envFrom": [{"secretRef": {"name": "creds"}}],
                    "env": [
                        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "x"}}}
                    ],
                }
            ],
        },
    )
    sa = obj("ServiceAccount", "app-sa", "apps")
    secret = obj("Secret", "creds", "apps")
    cfg = obj("ConfigMap", "cfg", "apps")
    role = obj("ClusterRole", "app", api="rbac.authorization.k8s.io/v1")
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "app"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "app"},
        "subjects": [{"kind": "ServiceAccount", "name": "app-sa", "namespace": "apps"}],
    }
    svc = service("app", "apps", {"app": "app"})
    edges = infer_edges([app, sa, secret, cfg, role, binding, svc])
    assert edges[key(app)] == {key(sa), key(secret), key(cfg), key(role), key(binding)}


def test_declared_edges() -> None:
    objects = [deployment("a", "x"), deployment("b", "x"), deployment("c", "y")]
    declared = [DeclaredEdge(ObjectMatch(namespace="x"), ObjectMatch(name="c"), reason="x needs c")]
    edges = infer_edges(objects, declared)
    assert edges[key(objects[0])] == edges[key(objects[1])] == {key(objects[2])}
    assert edges[key(objects[2])] == frozenset()
    assert {e.rule for e in explain_edges(objects, declared)} == {"declared"}


# --- waves, critical path, cycles -------------------------------------------------------

A, B, C, D = (ObjectKey("", "ConfigMap", "n", x) for x in "abcd")


def test_waves_are_levels_and_critical_path_is_longest_chain() -> None:
    edges = {A: frozenset(), B: frozenset({A}), C: frozenset({A}), D: frozenset({B, C})}
    assert install_waves([D, C, B, A], edges) == ((A,), (B, C), (D,))
    assert critical_path([D, C, B, A], edges) == (A, B, D)  # tie B/C goes to the smaller key
    assert install_waves([], {}) == () and critical_path([], {}) == ()


def test_cycle_error_names_the_objects_in_the_cycle() -> None:
    edges = {A: frozenset({C}), B: frozenset({A}), C: frozenset({B}), D: frozenset({A})}
    with pytest.raises(CycleError) as caught:
        install_waves([A, B, C, D], edges)
    assert set(caught.value.cycle) == {A, B, C}
    for k in (A, B, C):
        assert str(k) in str(caught.value)
    assert str(D) not in str(caught.value)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(CycleError):
        critical_path([A, B, C, D], edges)


def test_declared_edge_that_closes_a_cycle_is_reported() -> None:
    objects = [deployment("a", "x"), deployment("b", "x")]
    declared = [
        DeclaredEdge(ObjectMatch(name="a"), ObjectMatch(name="b"), reason="one way"),
        DeclaredEdge(ObjectMatch(name="b"), ObjectMatch(name="a"), reason="and back"),
    ]
    edges = infer_edges(objects, declared)
    with pytest.raises(CycleError, match=r"Deployment\.apps x/a"):
        install_waves(list(edges), edges)


# --- readiness annotations --------------------------------------------------------------


def test_readiness_annotations_and_input_untouched() -> None:
    definition = crd("example.io", "Foo", "foos")
    converting = crd("example.io", "Bar", "bars")
    converting["metadata"]["annotations"] = {"cert-manager.io/inject-ca-from": "apps/cert"}
    converting["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {"clientConfig": {}}}
    cert = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}}
    hook = webhook_config("h", rules=[], annotations={"cert-manager.io/inject-ca-from": "apps/c"})
    plain_hook = webhook_config("p", rules=[])
    chosen = crd("example.io", "Baz", "bazs")
    chosen["metadata"]["annotations"] = {"pulumi.com/waitFor": "jsonpath={.status}"}
    objects = [definition, converting, cert, hook, plain_hook, chosen, deployment("d", "n")]
    before = copy.deepcopy(objects)
    result = add_readiness_annotations(objects)
    assert objects == before
    wait: list[str] = [(m["metadata"].get("annotations") or {}).get(WAIT_FOR, "") for m in result]
    assert wait[0] == "condition=Established"
    assert json.loads(wait[1]) == [
        "condition=Established",
        "jsonpath={.spec.conversion.webhook.clientConfig.caBundle}",
    ]
    assert wait[2] == "condition=Ready"
    assert wait[3] == "jsonpath={.webhooks[*].clientConfig.caBundle}"
    assert wait[4] == wait[6] == ""
    assert wait[5] == "jsonpath={.status}"


def _workloads_behind(
    service_ref: dict[str, str], by_key: dict[ObjectKey, Manifest]
) -> set[ObjectKey]:
    svc = by_key[ObjectKey("", "Service", service_ref["namespace"], service_ref["name"])]
    selector = svc["spec"]["selector"].items()
    return {
        k
        for k, m in by_key.items()
        if k.kind in ("Deployment", "StatefulSet", "DaemonSet")
        and k.namespace == service_ref["namespace"]
        and selector <= m["spec"]["template"]["metadata"]["labels"].items()
    }
