"""CRDs as one batch, and the order the shell registers the plan in (graph/batch.py)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.kubeflow.graph import explain_edges, infer_edges, install_waves, registration_order
from infra.kubeflow.graph.batch import CRD_BATCH_RULE, is_crd
from infra.kubeflow.objects import ObjectKey
from tests.unit.kubeflow.fixtures_graph import crd, custom, key, namespace, obj

INJECT = "cert-manager.io/inject-ca-from"


def _big(manifest: dict[str, Any]) -> dict[str, Any]:
    """The same CRD with a long description: the largest manifest of the plan."""
    manifest["spec"]["versions"][0]["schema"] = {
        "openAPIV3Schema": {"type": "object", "description": "x" * 5000}
    }
    return manifest


def _batch(manifests: list[dict[str, Any]]) -> dict[ObjectKey, ObjectKey]:
    return {e.dependent: e.dependency for e in explain_edges(manifests) if e.rule == CRD_BATCH_RULE}


def test_every_crd_waits_for_the_largest_free_one() -> None:
    small = crd("a.example.com", "Apple", "apples")
    big = _big(crd("b.example.com", "Berry", "berries"))
    other = crd("c.example.com", "Cherry", "cherries")
    batch = _batch([small, big, other, namespace("ns")])
    assert batch == {key(small): key(big), key(other): key(big)}


def test_a_crd_with_edges_of_its_own_is_never_the_anchor() -> None:
    # A CRD fed by cert-manager (conversion webhook CA) waits for a Certificate: made the
    # anchor, every CRD would wait on it, and cert-manager's own CRDs would close a cycle.
    certificates = crd("cert-manager.io", "Certificate", "certificates")
    injected = _big(crd("d.example.com", "Date", "dates"))
    injected["metadata"]["annotations"] = {INJECT: "ns/serving-cert"}
    cert = custom("cert-manager.io", "Certificate", "serving-cert", "ns")
    manifests = [certificates, injected, cert, namespace("ns")]
    batch = _batch(manifests)
    assert batch == {key(injected): key(certificates)}
    install_waves([key(m) for m in manifests], infer_edges(manifests))  # no CycleError


@pytest.mark.parametrize("count", [0, 1])
def test_no_batch_below_two_crds(count: int) -> None:
    manifests = [crd(f"g{i}.example.com", "Kind", "kinds") for i in range(count)]
    assert _batch([*manifests, namespace("ns")]) == {}


def test_registration_order_puts_dependencies_first_and_crds_early() -> None:
    apple = crd("a.example.com", "Apple", "apples")
    berry = _big(crd("b.example.com", "Berry", "berries"))
    manifests = [
        namespace("ns"),
        obj("ConfigMap", "aaa", "ns"),
        custom("a.example.com", "Apple", "one", "ns"),
        apple,
        berry,
        obj("ClusterRole", "a-role", api="rbac.authorization.k8s.io/v1"),
    ]
    edges = infer_edges(manifests)
    order = registration_order([key(m) for m in manifests], edges)
    assert sorted(order) == sorted(key(m) for m in manifests)
    position = {k: i for i, k in enumerate(order)}
    for dependent, deps in edges.items():
        assert all(position[d] < position[dependent] for d in deps), dependent
    # The anchor, then the other CRD at once, before any object that could come earlier.
    assert list(order[:2]) == [key(berry), key(apple)]
    assert all(not is_crd(k) for k in order[2:])


def test_registration_order_leaves_out_nothing_on_an_acyclic_graph() -> None:
    keys = [ObjectKey("", "ConfigMap", "ns", name) for name in "cba"]
    edges = {keys[0]: {keys[1]}, keys[1]: {keys[2]}, keys[2]: {ObjectKey("", "X", "", "gone")}}
    assert registration_order(keys, edges) == (keys[2], keys[1], keys[0])
