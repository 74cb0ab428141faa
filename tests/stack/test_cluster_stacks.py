"""The real program under mocks: each stack file's cluster, provider wiring and parents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.cluster.base import MissingExtraError
from infra.config import ConfigError
from infra.config_model import SECRET_KEYS
from tests.stack.harness import FAKE_KUBECONFIG, Recording, run_program, run_stack_file
from tests.unit.test_config import BAD_CONFIGS

STACKS = Path(__file__).resolve().parents[2] / "stacks"
PROD_SECRETS = {f"kfstack:{key}": f"prod-{key}-value" for key in SECRET_KEYS}
K8S_PROVIDER = "pulumi:providers:kubernetes"
# These tests are about the cluster: a one-component platform keeps each run short.
# No istio-cni in it: the stacks' allowPrivileged entry would match nothing (an error).
SMALL_PLATFORM = {"preset": None, "components": ["cert-manager"], "allowPrivileged": []}


def run_cluster_stack(path: Path, **kwargs: Any) -> Recording:
    overrides = dict(kwargs.pop("overrides", {}))
    overrides["kfstack:kubeflow"] = {**SMALL_PLATFORM, **overrides.get("kfstack:kubeflow", {})}
    return run_stack_file(path, overrides=overrides, **kwargs)


def _component(rec: Recording) -> Any:
    return rec.one("kfstack:cluster:Cluster", "cluster")


def _assert_children_of_cluster(rec: Recording, types: set[str]) -> None:
    component = _component(rec)
    for resource in rec.resources:
        if resource.type in types:
            assert resource.parent == component.urn, f"{resource.type} {resource.name}"


def test_dev_creates_a_kind_cluster_and_its_provider() -> None:
    rec = run_cluster_stack(STACKS / "Pulumi.dev.yaml")
    created = rec.one("command:local:Command", "kind-cluster")
    kind_config = yaml.safe_load(created.inputs["environment"]["KIND_CONFIG"])
    assert created.inputs["environment"]["CLUSTER"] == "kfstack-dev"
    control_plane = kind_config["nodes"][0]
    assert control_plane["image"].startswith("kindest/node:v1.34")
    assert control_plane["extraPortMappings"][0]["hostPort"] == 8080
    assert "sysctl -w fs.inotify.max_user_instances=2280" in created.inputs["create"]
    assert created.inputs["delete"].startswith("kind delete cluster")
    assert created.additional_secret_outputs == ["stdout"]
    provider = rec.one(K8S_PROVIDER, "kind")
    assert created.urn in provider.dependencies
    assert provider.inputs["enableServerSideApply"] == "true"
    _assert_children_of_cluster(rec, {"command:local:Command", K8S_PROVIDER})


def test_staging_creates_gke_cluster_node_pool_and_kubeconfig() -> None:
    rec = run_cluster_stack(STACKS / "Pulumi.staging.yaml")
    gke = rec.one("gcp:container/cluster:Cluster", "gke")
    assert gke.inputs["removeDefaultNodePool"] is True
    assert gke.inputs["location"] == "europe-west4-a"
    assert gke.inputs["minMasterVersion"] == "1.34"
    pool = rec.one("gcp:container/nodePool:NodePool", "nodes")
    assert pool.inputs["nodeCount"] == 3
    assert pool.inputs["nodeConfig"]["machineType"] == "e2-standard-8"
    gcp_provider = rec.one("pulumi:providers:gcp", "gcp")
    assert gcp_provider.inputs["project"] == "my-gcp-project"
    assert gke.provider.startswith(gcp_provider.urn)
    provider = rec.one(K8S_PROVIDER, "gke")
    assert pool.urn in provider.dependencies
    assert provider.is_secret("kubeconfig")
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://203.0.113.10"
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    _assert_children_of_cluster(rec, {gke.type, pool.type, K8S_PROVIDER})


def test_prod_creates_eks_vpc_nodes_ebs_csi_and_storage_class() -> None:
    rec = run_cluster_stack(STACKS / "Pulumi.prod.yaml", secrets=PROD_SECRETS)
    assert len(rec.of_type("aws:ec2/subnet:Subnet")) == 2
    rec.one("aws:ec2/vpc:Vpc", "vpc")
    eks = rec.one("eks:index:Cluster", "eks")
    assert eks.inputs["skipDefaultNodeGroup"] is True
    assert eks.inputs["createOidcProvider"] is True
    assert eks.inputs["version"] == "1.34"
    nodes = rec.one("eks:index:ManagedNodeGroup", "nodes")
    assert nodes.inputs["instanceTypes"] == ["m6i.2xlarge"]
    assert nodes.inputs["scalingConfig"]["desiredSize"] == 4
    addon = rec.one("aws:eks/addon:Addon", "ebs-csi-driver")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    assert eks.urn in addon.dependencies
    provider = rec.one(K8S_PROVIDER, "eks")
    assert nodes.urn in provider.dependencies
    assert provider.is_secret("kubeconfig")
    storage = rec.one("kubernetes:storage.k8s.io/v1:StorageClass", "gp3")
    assert storage.provider.startswith(provider.urn)
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com"
    assert addon.urn in storage.dependencies
    aws_provider = rec.one("pulumi:providers:aws", "aws")
    assert aws_provider.inputs["region"] == "eu-west-1"
    for resource in rec.resources:
        if resource.type.startswith("aws:") and resource.custom:
            assert resource.provider.startswith(aws_provider.urn), resource.name
    _assert_children_of_cluster(rec, {eks.type, addon.type, storage.type, K8S_PROVIDER})


def test_existing_cluster_uses_the_given_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(FAKE_KUBECONFIG)
    rec = run_cluster_stack(
        STACKS / "Pulumi.dev.yaml",
        overrides={
            "kfstack:cluster": {
                "kind": "existing",
                "kubeconfig": str(kubeconfig),
                "context": "c",
                "adoptExisting": True,
            }
        },
    )
    assert not rec.of_type("command:local:Command")
    provider = rec.one(K8S_PROVIDER, "existing")
    assert provider.inputs["context"] == "c"
    assert provider.inputs["upsertExistingObjects"] == "true"  # adoptExisting
    assert provider.inputs["enablePatchForce"] == "true"  # ... applied with force
    assert provider.is_secret("kubeconfig")
    assert provider.inputs["kubeconfig"] == FAKE_KUBECONFIG


BAD_PROGRAM_CONFIGS = [
    ({"kfstack:cluster": {"kind": "eks"}}, "region is required"),
    ({"kfstack:cluster": {"nodeCount": 0}}, "kfstack:cluster.nodeCount"),
    ({"kfstack:nope": "1"}, "kfstack:nope: unknown key"),
    (
        {"kfstack:cluster": {"kind": "existing", "kubeconfig": "/nonexistent/kubeconfig"}},
        "kfstack:cluster.kubeconfig: file not found",
    ),
    (
        {"kfstack:cluster": {"kind": "existing", "kubeconfig": FAKE_KUBECONFIG, "context": "x"}},
        "kfstack:cluster.context: 'x' is not in the kubeconfig",
    ),
    (
        {"kfstack:kubeflow": {"source": {"path": "/nonexistent/manifests"}}},
        "kfstack:kubeflow.source.path: directory not found",
    ),
    (
        {"kfstack:dexPassword": "hunter22"},  # set in plain text, not as a secret
        "kfstack:dexPassword: a secret must be encrypted",
    ),
]


@pytest.mark.parametrize(("config", "expected"), BAD_PROGRAM_CONFIGS)
def test_bad_config_registers_nothing(config: dict[str, Any], expected: str) -> None:
    recording = Recording()
    # Objects reach the program as JSON strings, as the engine passes them.
    raw = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in config.items()}
    with pytest.raises(ConfigError) as caught:
        run_program("dev", raw, recording=recording)
    assert expected in str(caught.value)
    assert recording.resources == []


def test_prod_without_secrets_fails_before_registering() -> None:
    with pytest.raises(ConfigError) as caught:
        run_cluster_stack(STACKS / "Pulumi.prod.yaml")
    assert "kfstack:dexPassword: required secret" in str(caught.value)


def test_missing_cloud_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.cluster import base

    real_import = base.importlib.import_module

    def without_eks(name: str) -> Any:
        if name == "pulumi_eks":
            raise ImportError("No module named 'pulumi_eks'")
        return real_import(name)

    monkeypatch.setattr(base.importlib, "import_module", without_eks)
    with pytest.raises(MissingExtraError) as caught:
        run_cluster_stack(STACKS / "Pulumi.prod.yaml", secrets=PROD_SECRETS)
    assert "uv sync --extra eks" in str(caught.value)


@pytest.mark.parametrize(
    ("case", "raw", "expected"), BAD_CONFIGS, ids=[case for case, _, _ in BAD_CONFIGS]
)
def test_every_bad_config_case_registers_nothing(
    case: str, raw: dict[str, Any], expected: str
) -> None:
    recording = Recording()
    with pytest.raises(ConfigError) as caught:
        run_program("dev", raw, recording=recording)
    assert expected in str(caught.value), case
    assert recording.resources == []
