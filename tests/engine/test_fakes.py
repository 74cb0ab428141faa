"""The fake controllers' pure decisions (runs in `make test`, no control plane needed)."""

from __future__ import annotations

from typing import Any

from tests.engine.fakes import ca_patches, certificate_actions, profile_namespaces


def _cert(name: str, ready: str | None, secret: str | None = None) -> dict[str, Any]:
    cert: dict[str, Any] = {"metadata": {"name": name, "namespace": "ns"}, "spec": {}}
    if secret:
        cert["spec"]["secretName"] = secret
    if ready:
        cert["status"] = {"conditions": [{"type": "Ready", "status": ready}]}
    return cert


def test_only_certificates_not_ready_are_issued_into_their_secret() -> None:
    actions = certificate_actions(
        [_cert("a", "True"), _cert("b", "False", "b-tls"), _cert("c", None)]
    )
    assert actions == [
        {"namespace": "ns", "name": "b", "secret": "b-tls"},
        {"namespace": "ns", "name": "c", "secret": "c"},
    ]


def test_ca_is_injected_only_where_asked_and_missing() -> None:
    asked = {"cert-manager.io/inject-ca-from": "ns/cert"}
    hooks = {
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "v", "annotations": asked},
        "webhooks": [{"clientConfig": {"caBundle": "x"}}, {"clientConfig": {}}],
    }
    plain = {"kind": "MutatingWebhookConfiguration", "metadata": {"name": "m"}, "webhooks": [{}]}
    crd = {
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "c", "annotations": asked},
        "spec": {"conversion": {"strategy": "Webhook", "webhook": {"clientConfig": {}}}},
    }
    none_crd = {**crd, "spec": {"conversion": {"strategy": "None"}}}
    patches = ca_patches([hooks, plain, crd, none_crd], "CA")
    assert patches == [
        (
            "ValidatingWebhookConfiguration",
            "v",
            [{"op": "add", "path": "/webhooks/1/clientConfig/caBundle", "value": "CA"}],
        ),
        (
            "CustomResourceDefinition",
            "c",
            [
                {
                    "op": "add",
                    "path": "/spec/conversion/webhook/clientConfig/caBundle",
                    "value": "CA",
                }
            ],
        ),
    ]


def _profile(name: str, *, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"uid-{name}"}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-30T00:00:00Z"
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Profile",
        "metadata": meta,
        "spec": {"owner": {"kind": "User", "name": f"{name}@example.com"}},
    }


def test_each_profile_without_a_namespace_gets_one_it_owns() -> None:
    profiles = [_profile("ann"), _profile("bob"), _profile("gone", deleting=True)]
    namespaces = profile_namespaces(profiles, namespaces={"bob"})
    assert [ns["metadata"]["name"] for ns in namespaces] == ["ann"]
    (owner,) = namespaces[0]["metadata"]["ownerReferences"]
    # Owned by the Profile: the garbage collector deletes the namespace with it.
    assert (owner["kind"], owner["name"], owner["uid"]) == ("Profile", "ann", "uid-ann")
    assert owner["controller"] is True
    assert namespaces[0]["metadata"]["annotations"]["owner"] == "ann@example.com"
