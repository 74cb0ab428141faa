"""Pure parts of the cluster modules: kind config, kubeconfigs, IAM trust policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.cluster.eks import irsa_assume_role_policy
from infra.cluster.gke import gke_kubeconfig
from infra.cluster.kind import NODE_IMAGES, NODE_PORT, KindCluster, kind_cluster_config
from infra.config_model import SUPPORTED_KUBERNETES
from infra.kubeconfig import KubeconfigError
from infra.kubeconfig import read_stack_kubeconfig as read_kubeconfig
from infra.kubeconfig import server_of as server_of_kubeconfig
from tests.stack.harness import FAKE_KUBECONFIG


def test_kind_config_has_workers_port_mapping_and_api_server_patch() -> None:
    config = kind_cluster_config(
        KindCluster(node_count=3, gateway_host_port=9443), name="kfstack-dev"
    )
    roles = [node["role"] for node in config["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    mapping = config["nodes"][0]["extraPortMappings"][0]
    assert (mapping["containerPort"], mapping["hostPort"]) == (NODE_PORT, 9443)
    assert KindCluster.GATEWAY_NODE_PORT == NODE_PORT  # the platform's gateway gets the mapped port
    patch = yaml.safe_load(config["nodes"][0]["kubeadmConfigPatches"][0])
    assert patch["apiServer"]["extraArgs"]["service-account-issuer"]


def test_every_supported_version_has_a_kind_image() -> None:
    for versions in SUPPORTED_KUBERNETES.values():
        for version in versions:
            assert NODE_IMAGES[version].startswith(f"kindest/node:v{version}.")


def test_gke_kubeconfig_uses_the_auth_plugin() -> None:
    document = yaml.safe_load(gke_kubeconfig(name="c", endpoint="1.2.3.4", ca_certificate="Q0E="))
    assert document["clusters"][0]["cluster"]["server"] == "https://1.2.3.4"
    assert document["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert server_of_kubeconfig(json.dumps(document)) == "https://1.2.3.4"


def test_irsa_policy_binds_one_service_account() -> None:
    policy = json.loads(
        irsa_assume_role_policy(
            "arn:oidc", "https://oidc.example/id/X", "system:serviceaccount:a:b"
        )
    )
    condition = policy["Statement"][0]["Condition"]["StringEquals"]
    assert condition["oidc.example/id/X:sub"] == "system:serviceaccount:a:b"
    assert condition["oidc.example/id/X:aud"] == "sts.amazonaws.com"


def test_read_kubeconfig_from_path_and_content(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(FAKE_KUBECONFIG)
    assert read_kubeconfig("config", context=None, base=tmp_path) == FAKE_KUBECONFIG
    assert read_kubeconfig(FAKE_KUBECONFIG, context="c", base=tmp_path) == FAKE_KUBECONFIG
    assert server_of_kubeconfig(FAKE_KUBECONFIG, context=None) == "https://127.0.0.1:6443"


@pytest.mark.parametrize(
    ("value", "context", "message"),
    [
        ("missing-file", None, "file not found"),
        ("apiVersion: v1\nkind: Pod\n", None, "not a kubeconfig"),
        (FAKE_KUBECONFIG, "other", "'other' is not in the kubeconfig"),
        ("apiVersion: v1\n  bad: [", None, "not valid YAML"),
    ],
)
def test_read_kubeconfig_errors(
    tmp_path: Path, value: str, context: str | None, message: str
) -> None:
    with pytest.raises(KubeconfigError, match=message):
        read_kubeconfig(value, context=context, base=tmp_path)


def test_kind_gateway_is_a_node_port_matching_the_port_mapping() -> None:
    from infra.kubeflow.objects import PlannedObject
    from infra.kubeflow.transforms.gateway import GATEWAY, expose_gateway

    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": GATEWAY.name, "namespace": GATEWAY.namespace},
        "spec": {"type": "ClusterIP", "ports": [{"name": "http2", "port": 80}]},
    }
    objects = (PlannedObject(GATEWAY, service, "istio"),)
    (kind,) = expose_gateway(objects, node_port=KindCluster.GATEWAY_NODE_PORT)
    assert kind.manifest["spec"]["type"] == "NodePort"
    assert kind.manifest["spec"]["ports"][0]["nodePort"] == KindCluster.GATEWAY_NODE_PORT
    assert service["spec"]["type"] == "ClusterIP"  # the input is not mutated
    (gke,) = expose_gateway(objects, node_port=None)
    assert gke.manifest is service
