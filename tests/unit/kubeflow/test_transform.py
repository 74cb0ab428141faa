"""Pure transforms: credentials, Dex users, Profiles, registry mirror, resource requests."""

from __future__ import annotations

import base64
import copy
from typing import Any

import bcrypt
import pytest
import yaml

from infra.kubeflow.objects import ObjectKey, PlannedObject, secret_token
from infra.kubeflow.settings import UserProfile
from infra.kubeflow.transforms.credentials import (
    DERIVED,
    SECRETS,
    dex_password_hash,
    replace_credentials,
    secrets_used,
)
from infra.kubeflow.transforms.images import mirror_image, rewrite_images
from infra.kubeflow.transforms.resources import parse_quantity, scale_requests
from infra.kubeflow.transforms.users import apply_users, dex_config

USERS = (UserProfile("admin@corp.io", "admin"), UserProfile("ann@corp.io", "ann"))


def _obj(manifest: dict[str, Any], component: str = "c") -> PlannedObject:
    return PlannedObject(ObjectKey.of(manifest), manifest, component)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret(namespace: str, name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: _b64(v) for k, v in data.items()},
    }


def _deployment(namespace: str, name: str, container: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


# --- Dex password hash -------------------------------------------------------------------------


def test_dex_password_hash_is_stable_per_installation_and_salted_per_installation() -> None:
    first = dex_password_hash("s3cret-pass", "salt-of-stack-a")
    assert first == dex_password_hash("s3cret-pass", "salt-of-stack-a")
    assert first.startswith("$2b$12$")
    assert bcrypt.checkpw(b"s3cret-pass", first.encode())
    assert not bcrypt.checkpw(b"12341234", first.encode())
    other = dex_password_hash("another", "salt-of-stack-a")
    assert other[:29] != first[:29]  # the salt differs with the password
    elsewhere = dex_password_hash("s3cret-pass", "salt-of-stack-b")
    assert elsewhere[:29] != first[:29]  # and with the installation
    with pytest.raises(ValueError, match="salt"):
        dex_password_hash("s3cret-pass", "")
    assert DERIVED["dex-user-password-hash"] is dex_password_hash


# --- credentials -------------------------------------------------------------------------------


def test_secrets_become_tokens_and_plain_values_move_to_pods() -> None:
    oauth = _secret(
        "oauth2-proxy",
        "oauth2-proxy-h675gf55ht",
        **{"client-id": "kf", "client-secret": "pUB", "cookie-secret": "7d16"},
    )
    mysql = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "mysql-secret", "namespace": "kubeflow"},
        "stringData": {"username": "root", "password": ""},
    }
    api = _deployment(
        "kubeflow",
        "ml-pipeline",
        {
            "name": "api",
            "env": [
                {
                    "name": "DBCONFIG_USER",
                    "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "username"}},
                },
                {
                    "name": "DBCONFIG_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "password"}},
                },
            ],
        },
    )
    db = _deployment(
        "kubeflow",
        "mysql",
        {"name": "mysql", "env": [{"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "true"}]},
    )
    proxy = _deployment(
        "oauth2-proxy",
        "oauth2-proxy",
        {"name": "p", "envFrom": [{"secretRef": {"name": "oauth2-proxy-h675gf55ht"}}]},
    )
    inputs = [_obj(m) for m in (oauth, mysql, api, db, proxy)]
    before = copy.deepcopy([o.manifest for o in inputs])
    out = replace_credentials(inputs)
    secrets = secrets_used(out)
    assert [o.manifest for o in inputs] == before  # input never mutated
    new_oauth, new_mysql, new_api, new_db, new_proxy = (o.manifest for o in out)
    assert new_oauth["stringData"] == {
        "client-secret": secret_token("oauth2-proxy-client-secret"),
        "cookie-secret": secret_token("oauth2-proxy-cookie-secret"),
    }
    assert "data" not in new_oauth
    assert new_mysql["stringData"] == {"password": secret_token("pipelines-db-password")}
    env = new_api["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "DBCONFIG_USER", "value": "root"}
    assert env[1]["valueFrom"]["secretKeyRef"]["key"] == "password"
    db_env = new_db["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in db_env] == ["MYSQL_ROOT_PASSWORD"]
    assert db_env[0]["valueFrom"]["secretKeyRef"] == {"name": "mysql-secret", "key": "password"}
    proxy_env = new_proxy["spec"]["template"]["spec"]["containers"][0]["env"]
    assert proxy_env == [{"name": "client-id", "value": "kf"}]
    assert {s.name for s in secrets} == {
        "oauth2-proxy-client-secret",
        "oauth2-proxy-cookie-secret",
        "pipelines-db-password",
    }
    assert all(s.config_key for s in secrets)


def test_unrelated_objects_pass_through_unchanged() -> None:
    other = _obj(_secret("team", "mine", password="x"))
    out = replace_credentials([other])
    secrets = secrets_used(out)
    assert out[0] is other and secrets == ()


def test_every_secret_spec_is_named_like_a_token() -> None:
    for name, spec in SECRETS.items():
        assert spec.name == name
        assert secret_token(name).endswith(f":{name}}}}}")


def test_dex_config_lists_every_user_with_the_hash_env() -> None:
    config = "issuer: x\nstaticPasswords:\n- email: user@example.com\n  hash: old\n"
    users = yaml.safe_load(dex_config(config, USERS))["staticPasswords"]
    assert [u["email"] for u in users] == ["admin@corp.io", "ann@corp.io"]
    assert {u["hashFromEnv"] for u in users} == {"DEX_USER_PASSWORD"}
    assert len({u["userID"] for u in users}) == 2
    assert dex_config(config, USERS) == dex_config(config, USERS)


# --- users -------------------------------------------------------------------------------------


def _profile(name: str, owner: str) -> PlannedObject:
    manifest = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Profile",
        "metadata": {"name": name},
        "spec": {"owner": {"kind": "User", "name": owner}},
    }
    return _obj(manifest, "user-namespace")


def test_users_get_profiles() -> None:
    release = [_profile("admin", "someone@else"), _profile("kubeflow-user-example-com", "u@e")]
    out = apply_users(release, USERS, profiles_component="user-namespace")
    by_name = {o.key.name: o for o in out}
    assert set(by_name) == {"admin", "ann"}  # the example user's Profile is replaced
    assert by_name["admin"].origin == "release"
    assert by_name["admin"].manifest["spec"]["owner"]["name"] == "admin@corp.io"
    assert release[0].manifest["spec"]["owner"]["name"] == "someone@else"
    ann = by_name["ann"]
    assert ann.origin == "stack" and "ann@corp.io" in ann.reason
    assert ann.manifest["apiVersion"] == "kubeflow.org/v1"
    assert ann.component == "user-namespace"


# --- images ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("mysql:8.0", "m.io/kf/docker.io/library/mysql:8.0"),
        ("chrislusf/seaweedfs:4.00", "m.io/kf/docker.io/chrislusf/seaweedfs:4.00"),
        ("ghcr.io/dexidp/dex:v2.45.0", "m.io/kf/ghcr.io/dexidp/dex:v2.45.0"),
        ("localhost:5000/x:1", "m.io/kf/localhost:5000/x:1"),
        ("m.io/kf/ghcr.io/a:1", "m.io/kf/ghcr.io/a:1"),
    ],
)
def test_mirror_image(image: str, expected: str) -> None:
    assert mirror_image(image, "m.io/kf/") == expected


def test_rewrite_images_everywhere_but_crds() -> None:
    deploy = _deployment("ns", "d", {"name": "c", "image": "mysql:8.0"})
    deploy["spec"]["template"]["spec"]["initContainers"] = [{"name": "i", "image": "busybox"}]
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "inferenceservice-config", "namespace": "kubeflow"},
        "data": {
            "storageInitializer": '{"image": "kserve/storage-initializer:v0.16.0", "x": 1}',
            "queue-sidecar-image": "gcr.io/knative/queue:1",
            "note": "image: not-json",
        },
    }
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ClusterServingRuntime",
        "metadata": {"name": "rt"},
        "spec": {"containers": [{"name": "kserve-container", "image": "tensorflow/serving:2"}]},
    }
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "x"},
        "spec": {"default": {"image": "mysql:8.0"}},
    }
    inputs = [_obj(m) for m in (deploy, config, runtime, crd)]
    before = copy.deepcopy([o.manifest for o in inputs])
    out = rewrite_images(inputs, "m.io")
    assert [o.manifest for o in inputs] == before
    pod = out[0].manifest["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "m.io/docker.io/library/mysql:8.0"
    assert pod["initContainers"][0]["image"] == "m.io/docker.io/library/busybox"
    data = out[1].manifest["data"]
    assert '"m.io/docker.io/kserve/storage-initializer:v0.16.0"' in data["storageInitializer"]
    assert data["queue-sidecar-image"] == "m.io/gcr.io/knative/queue:1"
    assert data["note"] == "image: not-json"
    assert out[2].manifest["spec"]["containers"][0]["image"].startswith("m.io/docker.io/")
    assert out[3] is inputs[3]


# --- resource requests ------------------------------------------------------------------------


def _sized(requests: dict[str, str], limits: dict[str, str] | None = None) -> PlannedObject:
    resources: dict[str, Any] = {"requests": requests}
    if limits:
        resources["limits"] = limits
    return _obj(_deployment("ns", "d", {"name": "c", "resources": resources}))


def test_scale_requests_halves_and_caps() -> None:
    half = scale_requests([_sized({"cpu": "100m", "memory": "1Gi"})], 0.5)
    assert half[0].manifest["spec"]["template"]["spec"]["containers"][0]["resources"][
        "requests"
    ] == {"cpu": "50m", "memory": "512Mi"}
    double = scale_requests([_sized({"cpu": "1", "memory": "300M"}, {"cpu": "1500m"})], 2)
    assert double[0].manifest["spec"]["template"]["spec"]["containers"][0]["resources"][
        "requests"
    ] == {"cpu": "1500m", "memory": "573Mi"}
    odd = _sized({"cpu": "lots"})
    assert scale_requests([odd], 0.5)[0] is odd
    same = _sized({"cpu": "1"})
    assert scale_requests([same], 1)[0] is same


def test_parse_quantity() -> None:
    assert parse_quantity("250m") == parse_quantity("0.25")
    assert parse_quantity("1Ki") == 1024
    assert parse_quantity("1e3") == 1000
    assert parse_quantity("x1") is None
