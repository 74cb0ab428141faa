"""A hostile manifests copy: every side door of the policy is an error naming its object.

The overlay is a copy of one real release component (the kubeflow namespaces) with the
objects an attacker with a manifests fork would add; the plan is computed end to end
(kustomize render, transforms, policy). The release itself planning clean is asserted
on the full plan in test_plan.py (`plan.errors == ()`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import Finding, ObjectKey, secret_token
from infra.kubeflow.settings import ManifestSource
from tests.settings import kubeflow_settings
from tests.unit.kubeflow.hostile import plant

Manifest = dict[str, Any]
ENTRY = "DaemonSet/kube-system/istio-cni-node"


def pod(containers: list[Manifest], **spec: Any) -> Manifest:
    return {"containers": containers, **spec}


def container(name: str, **security: Any) -> Manifest:
    return {"name": name, "image": "example/app:1", "securityContext": security}


def deployment(name: str, spec: Manifest, *, namespace: str = "kubeflow") -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def caps(name: str, *added: str) -> Manifest:
    return deployment(name, pod([container("c", capabilities={"add": list(added)})]))


def daemonset(api_version: str, name: str) -> Manifest:
    template = {"metadata": {"labels": {"app": name}}, "spec": pod([container("c")])}
    privileged = {**template, "spec": pod([container("c", privileged=True)])}
    return {
        "apiVersion": api_version,
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": privileged if "hostile" in api_version else template,
        },
    }


# (object the door is in, what the finding message must say)
SIDE_DOORS: list[tuple[Manifest, str]] = [
    (
        deployment(
            "host-root",
            pod([container("c")], volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
        ),
        "hostPath (/)",
    ),
    (
        deployment(
            "host-port",
            pod([{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]),
        ),
        "hostPort 80",
    ),
    (deployment("host-net", pod([container("c")], hostNetwork=True)), "hostNetwork"),
    (caps("lower-sys-admin", "sys_admin"), "SYS_ADMIN"),
    (caps("lower-all", "all"), "capability ALL"),
    (caps("prefixed-sys-admin", "CAP_SYS_ADMIN"), "SYS_ADMIN"),
    (caps("sys-module", "SYS_MODULE"), "SYS_MODULE"),
    (caps("sys-ptrace", "SYS_PTRACE"), "SYS_PTRACE"),
    (caps("net-admin", "NET_ADMIN"), "NET_ADMIN"),
    (caps("bpf", "BPF"), "BPF"),
    (
        {
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ServingRuntime",
            "metadata": {"name": "evil-runtime", "namespace": "kubeflow"},
            "spec": {
                "supportedModelFormats": [{"name": "x"}],
                "containers": [container("kserve-container", privileged=True)],
            },
        },
        "privileged",
    ),
    (
        {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": "evil-ksvc", "namespace": "kubeflow"},
            "spec": {"template": {"spec": pod([container("user", privileged=True)])}},
        },
        "privileged",
    ),
    # A kind named like the allow-list entry's object (same namespace/name, other group).
    (daemonset("hostile.example.com/v1", "istio-cni-node"), "privileged"),
    (
        deployment(
            "hostile-mysql",
            pod(
                [
                    {
                        "name": "mysql",
                        "image": "mysql:8",
                        "env": [{"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "true"}],
                    }
                ]
            ),
        ),
        "MYSQL_ALLOW_EMPTY_PASSWORD",
    ),
    (
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "leaky", "namespace": "kubeflow"},
            "data": {"url": f"mysql://root:{secret_token('pipelines-db-password')}@mysql"},
        },
        "not a Secret's data",
    ),
    (
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "stolen", "namespace": "kubeflow"},
            "stringData": {"hash": secret_token("dex-user-password-hash")},
        },
        "a Secret of namespace 'kubeflow'",
    ),
]


@pytest.fixture(scope="module")
def hostile_findings(
    kubeflow_manifests: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Finding]:
    objects = [m for m, _ in SIDE_DOORS] + [daemonset("apps/v1", "istio-cni-node")]
    root = plant(kubeflow_manifests, tmp_path_factory.mktemp("hostile-manifests"), objects)
    settings = kubeflow_settings(
        preset=None,
        components=("kubeflow-namespace",),
        cluster_kind="existing",
        source=ManifestSource(path=root),
        allow_privileged=(ENTRY,),
    )
    plan = build_plan(settings, cache_dir=root / "cache", use_cache=False)
    return list(plan.findings)


@pytest.mark.parametrize(("manifest", "what"), SIDE_DOORS, ids=lambda v: str(v)[:40])
def test_each_side_door_is_an_error_naming_its_object(
    hostile_findings: list[Finding], manifest: Manifest, what: str
) -> None:
    key = ObjectKey.of(manifest)
    mine = [f for f in hostile_findings if f.key == key and f.severity == "error"]
    assert mine, f"no error for {key}"
    assert any(what in f.message for f in mine), [f.message for f in mine]


def test_the_allowed_daemonset_itself_passes(hostile_findings: list[Finding]) -> None:
    allowed = ObjectKey("apps", "DaemonSet", "kube-system", "istio-cni-node")
    assert [f for f in hostile_findings if f.key == allowed] == []
    assert not [f for f in hostile_findings if f.rule == "policy.allow-list"]
