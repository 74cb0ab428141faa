"""Install graph properties on the real 26.03 render."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from infra.kubeflow.graph import critical_path, install_waves
from infra.kubeflow.graph.order import infer_edges
from infra.kubeflow.objects import ObjectKey
from infra.kubeflow.transforms.readiness import add_readiness_annotations
from tests.release.rendered import real_edges, render_example
from tests.unit.kubeflow.test_graph import ADMISSION, INJECT, WAIT_FOR, _workloads_behind

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def objects(kubeflow_manifests: Path) -> list[Manifest]:
    return render_example(kubeflow_manifests)


@pytest.fixture(scope="module")
def edges(kubeflow_manifests: Path) -> dict[ObjectKey, frozenset[ObjectKey]]:
    return real_edges(kubeflow_manifests)


def _by_key(objects: list[Manifest]) -> dict[ObjectKey, Manifest]:
    return {ObjectKey.of(m): m for m in objects}


def test_real_every_custom_resource_depends_on_its_crd(objects: list[Manifest], edges: Any) -> None:
    defined = {
        (m["spec"]["group"], m["spec"]["names"]["kind"]): ObjectKey.of(m)
        for m in objects
        if m["kind"] == "CustomResourceDefinition"
    }
    customs = [k for k in _by_key(objects) if (k.group, k.kind) in defined]
    assert len(customs) > 80
    for k in customs:
        assert defined[(k.group, k.kind)] in edges[k], k


def test_real_every_namespaced_object_depends_on_its_namespace(
    objects: list[Manifest], edges: Any
) -> None:
    planned = {m["metadata"]["name"] for m in objects if m["kind"] == "Namespace"}
    checked = 0
    for k in _by_key(objects):
        if k.namespace in planned:
            assert ObjectKey("", "Namespace", "", k.namespace) in edges[k], k
            checked += 1
    assert checked > 300


def test_real_custom_resources_wait_for_the_fail_webhooks_that_validate_them(
    objects: list[Manifest], edges: Any
) -> None:
    """Independent check of webhooks whose rules name concrete groups and resources."""
    by_key = _by_key(objects)
    plural = {
        (m["spec"]["group"], m["spec"]["names"]["kind"]): m["spec"]["names"]["plural"]
        for m in objects
        if m["kind"] == "CustomResourceDefinition"
    }
    checked = 0
    for config in objects:
        if not config["kind"].endswith("WebhookConfiguration"):
            continue
        for hook in config["webhooks"]:
            if hook.get("failurePolicy", "Fail") != "Fail" or hook.get("namespaceSelector"):
                continue
            backend = _workloads_behind(hook["clientConfig"]["service"], by_key)
            assert backend, hook["name"]
            for r in hook.get("rules") or []:
                for k in by_key:
                    resource = plural.get((k.group, k.kind))
                    if k.group in r["apiGroups"] and resource in r["resources"]:
                        assert {ObjectKey.of(config), *backend} <= edges[k], (k, hook["name"])
                        checked += 1
    assert checked >= 17  # 11 ClusterServingRuntimes, 6 ClusterTrainingRuntimes, knative ...


def test_real_cert_manager_objects_wait_for_its_webhook(
    objects: list[Manifest], edges: Any
) -> None:
    webhook = ObjectKey(ADMISSION, "ValidatingWebhookConfiguration", "", "cert-manager-webhook")
    backend = ObjectKey("apps", "Deployment", "cert-manager", "cert-manager-webhook")
    cert_manager = [k for k in _by_key(objects) if k.group == "cert-manager.io"]
    assert len(cert_manager) == 12
    for k in cert_manager:
        assert {webhook, backend} <= edges[k], k


def test_real_injected_workloads_wait_for_istio(objects: list[Manifest], edges: Any) -> None:
    injected = {
        m["metadata"]["name"]
        for m in objects
        if m["kind"] == "Namespace"
        and m["metadata"].get("labels", {}).get("istio-injection") == "enabled"
    }
    injector = ObjectKey(ADMISSION, "MutatingWebhookConfiguration", "", "istio-sidecar-injector")
    istiod = ObjectKey("apps", "Deployment", "istio-system", "istiod")
    checked = 0
    for k, m in _by_key(objects).items():
        labels = m.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
        opted_out = labels.get("sidecar.istio.io/inject") == "false"
        if k.kind in ("Deployment", "StatefulSet") and k.namespace in injected and not opted_out:
            assert {injector, istiod} <= edges[k], k
            checked += 1
    assert checked > 25
    assert injector not in edges[istiod]


def test_real_no_workload_depends_on_a_service_that_selects_it(
    objects: list[Manifest], edges: Any
) -> None:
    by_key = _by_key(objects)
    services = [m for m in objects if m["kind"] == "Service" and m.get("spec", {}).get("selector")]
    pairs = 0
    for k, m in by_key.items():
        if k.kind not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        labels = m["spec"]["template"]["metadata"].get("labels", {})
        for svc in services:
            same_namespace = svc["metadata"]["namespace"] == k.namespace
            if same_namespace and svc["spec"]["selector"].items() <= labels.items():
                pairs += 1
                assert ObjectKey.of(svc) not in edges[k], (k, ObjectKey.of(svc))
    assert pairs > 30


def test_real_graph_has_no_cycle_and_deterministic_waves(
    objects: list[Manifest], edges: Any
) -> None:
    keys = [ObjectKey.of(m) for m in objects]
    waves = install_waves(keys, edges)
    assert len(waves) >= 5 and all(waves)
    assert sorted(k for wave in waves for k in wave) == sorted(set(keys))
    shuffled = list(objects)
    random.Random(7).shuffle(shuffled)
    again = infer_edges(shuffled)
    assert again == edges
    assert install_waves(list(reversed(keys)), again) == waves
    position = {k: i for i, wave in enumerate(waves) for k in wave}
    for k, deps in edges.items():
        assert all(position[d] < position[k] for d in deps), k


def test_real_critical_path_is_a_valid_longest_chain(objects: list[Manifest], edges: Any) -> None:
    keys = [ObjectKey.of(m) for m in objects]
    path = critical_path(keys, edges)
    assert len(path) == len(install_waves(keys, edges))  # longest chain = number of levels
    for before, after in itertools.pairwise(path):
        assert before in edges[after], (after, before)
    assert critical_path(list(reversed(keys)), edges) == path


def test_real_readiness_annotations(objects: list[Manifest]) -> None:
    annotated = add_readiness_annotations(objects)
    wait: dict[ObjectKey, str] = {
        ObjectKey.of(m): (m["metadata"].get("annotations") or {}).get(WAIT_FOR, "")
        for m in annotated
    }
    crds = [k for k in wait if k.kind == "CustomResourceDefinition"]
    assert len(crds) == 74
    assert all(wait[k] and "condition=Established" in wait[k] for k in crds)
    certs = [k for k in wait if k.kind == "Certificate" and k.group == "cert-manager.io"]
    assert certs and all(wait[k] == "condition=Ready" for k in certs)
    injected_hooks = [
        ObjectKey.of(m)
        for m in objects
        if m["kind"].endswith("WebhookConfiguration")
        and any(a.startswith(INJECT) for a in (m["metadata"].get("annotations") or {}))
    ]
    assert len(injected_hooks) == 16  # 14 inject-ca-from, 2 inject-ca-from-secret
    assert all(wait[k] == "jsonpath={.webhooks[*].clientConfig.caBundle}" for k in injected_hooks)
    assert all(WAIT_FOR not in (m["metadata"].get("annotations") or {}) for m in objects)
