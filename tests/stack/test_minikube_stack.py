"""The program under mocks with a minikube cluster: its create step, provider and parents."""

from __future__ import annotations

from pathlib import Path

from tests.stack.harness import run_stack_file

STACKS = Path(__file__).resolve().parents[2] / "stacks"
K8S_PROVIDER = "pulumi:providers:kubernetes"
SMALL_PLATFORM = {"preset": None, "components": ["cert-manager"], "allowPrivileged": []}


def test_a_minikube_stack_creates_its_cluster_and_provider() -> None:
    rec = run_stack_file(
        STACKS / "Pulumi.dev.yaml",
        overrides={
            "kfstack:cluster": {"kind": "minikube", "name": "team-a", "cpus": 4},
            "kfstack:kubeflow": SMALL_PLATFORM,
        },
    )
    component = rec.one("kfstack:cluster:Cluster", "cluster")
    created = rec.one("command:local:Command", "minikube-cluster")
    assert created.inputs["environment"] == {"CLUSTER": "team-a"}
    assert "--cpus=4" in created.inputs["create"]
    assert created.inputs["delete"].startswith('minikube delete --profile "$CLUSTER"')
    assert created.additional_secret_outputs == ["stdout"]
    provider = rec.one(K8S_PROVIDER, "minikube")
    assert created.urn in provider.dependencies
    assert {created.parent, provider.parent} == {component.urn}
    objects = rec.of_type("kubernetes:apps/v1:Deployment")
    assert objects
    assert all(o.provider == f"{provider.urn}::{provider.name}-id" for o in objects)
