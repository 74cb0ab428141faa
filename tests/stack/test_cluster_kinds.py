"""A new cluster kind is one module plus one line in the table of kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.cluster import eks, existing, gke, kind
from infra.cluster.base import ClusterBase
from infra.cluster.kinds import KINDS, ClusterKind, cluster_kind
from infra.config import ConfigError, parse_settings
from tests.stack import fake_kind
from tests.stack.harness import run_stack_file

STACKS = Path(__file__).resolve().parents[2] / "stacks"
K8S_PROVIDER = "pulumi:providers:kubernetes"
ISTIO_ONLY = {
    "preset": None,
    "components": ["istio"],
    "allowPrivileged": ["DaemonSet/kube-system/istio-cni-node"],
}

# Each module is a ClusterKind: mypy checks these assignments against the Protocol.
MODULES: tuple[ClusterKind, ...] = (kind, existing, eks, gke, fake_kind)


@pytest.fixture
def with_fake_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "fake", "tests.stack.fake_kind")


def test_the_table_names_a_module_per_kind() -> None:
    modules = {name: cluster_kind(name) for name in KINDS}
    assert {name: modules[name] for name in ("kind", "existing", "eks", "gke")} == {
        "kind": kind,
        "existing": existing,
        "eks": eks,
        "gke": gke,
    }
    for name, module in modules.items():
        # Each model's `kind` is its name in the table, and its default.
        assert module.CONFIG.model_fields["kind"].default == name
        assert issubclass(module.CONFIG, ClusterBase)


def test_an_unlisted_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown cluster kind 'fake' \(allowed: kind, "):
        parse_settings({"kfstack:cluster": json.dumps({"kind": "fake"})}, stack="dev")


@pytest.mark.usefixtures("with_fake_kind")
def test_a_listed_kind_validates_its_own_config() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            {"kfstack:cluster": json.dumps({"kind": "fake", "nodeCount": 2, "region": "r"})},
            stack="dev",
        )
    assert "kfstack:cluster: a fake cluster has one node" in str(caught.value)
    assert "kfstack:cluster.region: applies only to kinds 'eks' and 'gke', not 'fake'" in str(
        caught.value
    )


@pytest.mark.usefixtures("with_fake_kind")
def test_a_listed_kind_runs_the_program() -> None:
    rec = run_stack_file(
        STACKS / "Pulumi.dev.yaml",
        overrides={"kfstack:cluster": {"kind": "fake"}, "kfstack:kubeflow": ISTIO_ONLY},
    )
    component = rec.one("kfstack:cluster:Cluster", "cluster")
    provider = rec.one(K8S_PROVIDER, "fake")
    assert provider.parent == component.urn
    assert not rec.of_type("command:local:Command")  # nothing of the kind module `kind`
    objects = rec.of_type("kubernetes:core/v1:Service")
    assert objects
    assert all(o.provider == f"{provider.urn}::{provider.name}-id" for o in objects)
    (gateway,) = (o for o in objects if o.name.endswith("istio-ingressgateway"))
    ports = gateway.inputs["spec"]["ports"]
    assert gateway.inputs["spec"]["type"] == "NodePort"  # the kind's GATEWAY_NODE_PORT
    assert [p["nodePort"] for p in ports if p["name"] == "http2"] == [31999]
