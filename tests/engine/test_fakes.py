"""The fake controllers' pure decisions (runs in `make test`, no control plane needed)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ml.model import TrainConfig
from ml.model_release.profile import PROFILE_SECRET
from ml.workers.cluster import Place, place
from ml.workers.jobs import TRAINJOB, JobRequest, job_manifest
from ml.workers.spec import WorkerSpec
from tests.engine.fakes import ca_patches, certificate_actions, profile_access, profile_namespaces
from tests.engine.trainer import resolve_env, worker_pods


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


def test_a_profile_gets_the_runner_accounts_bound_to_the_release_roles() -> None:
    profile = {
        "metadata": {"name": "team-a"},
        "spec": {"owner": {"kind": "User", "name": "a@example.com"}},
    }
    objects = profile_access(profile)
    accounts = [o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"]
    assert accounts == ["default-editor", "default-viewer"]
    bindings = {
        o["metadata"]["name"]: (o["roleRef"]["name"], o["subjects"][0])
        for o in objects
        if o["kind"] == "RoleBinding"
    }
    assert bindings["default-editor"] == (
        "kubeflow-edit",
        {"kind": "ServiceAccount", "name": "default-editor", "namespace": "team-a"},
    )
    owner = bindings["namespaceAdmin"]
    assert owner[0] == "kubeflow-admin" and owner[1]["name"] == "a@example.com"
    assert owner[1]["apiGroup"] == "rbac.authorization.k8s.io"
    assert {o["metadata"]["namespace"] for o in objects} == {"team-a"}


def _trainjob(workers: int) -> dict[str, Any]:
    request = JobRequest(
        "job-1",
        "team-a",
        "image@sha256:00",
        workers,
        WorkerSpec(dataset="s3://b/d", out="s3://b/m", version=1, config=TrainConfig()),
        "http://store:9000",
    )
    return job_manifest(TRAINJOB, request)


def test_worker_pods_run_the_jobs_command_with_its_env_resolved() -> None:
    secret = {"accesskey": base64.b64encode(b"ak").decode(), "secretkey": "c2s="}
    addresses = ["127.0.0.1:1001", "127.0.0.1:1002"]
    pods = worker_pods(_trainjob(2), {PROFILE_SECRET: secret}, addresses)
    assert [p.name for p in pods] == ["job-1-node-0-0", "job-1-node-0-1"]
    first = pods[0]
    assert first.argv[:3] == ("python", "-m", "ml.workers.worker")
    assert first.env["AWS_ACCESS_KEY_ID"] == "ak" and first.env["AWS_SECRET_ACCESS_KEY"] == "sk"
    assert first.env["AWS_ENDPOINT_URL"] == "http://store:9000"
    assert [place(p.env) for p in pods] == [Place(0, 2), Place(1, 2)]
    assert json.loads(pods[1].env["TF_CONFIG"])["cluster"]["worker"] == addresses
    with pytest.raises(ValueError, match="2 workers, 1 addresses"):
        worker_pods(_trainjob(2), {PROFILE_SECRET: secret}, addresses[:1])


def test_a_missing_secret_key_is_an_error_not_an_empty_value() -> None:
    with pytest.raises(KeyError):
        resolve_env(
            [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}], {"s": {}}
        )
