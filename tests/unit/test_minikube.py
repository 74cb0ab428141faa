"""The minikube kind: its config, its `minikube start` arguments and its create step.

The create step runs under bash against a fake `minikube` executable, as kind's does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.cluster.base import INOTIFY
from infra.cluster.minikube import (
    KUBERNETES_VERSIONS,
    REQUIRED_ADDONS,
    MinikubeCluster,
    create_script,
    start_args,
)
from infra.config import ConfigError, kubeflow_settings, parse_settings
from infra.config_model import SUPPORTED_KUBERNETES
from tests.fake_tools import Run, run_with_fake_tools

FAKE_MINIKUBE = """#!/bin/bash
echo "minikube $*" >> "$LOG"
case "$1 $2" in
  "profile list") [ -n "${EXISTING:-}" ] || exit 85
                  printf '{"invalid":[],"valid":[{"Name":"%s","Status":"OK"}]}' "$EXISTING" ;;
  "start --profile") [ "${START_FAILS:-0}" = 1 ] && exit 1
                     printf 'apiVersion: v1\\nkind: Config\\n' > "$KUBECONFIG" ;;
  "node list") printf '%s\\t192.168.49.2\\n%s-m02\\t192.168.49.3\\n' "$4" "$4" ;;
  "ssh --profile") [ "${SYSCTL_FAILS:-0}" = 1 ] && exit 1; exit 0 ;;
  "delete --profile") exit 0 ;;
esac
"""


def _settings(**cluster: object) -> object:
    raw = {"kfstack:cluster": json.dumps({"kind": "minikube", **cluster})}
    return parse_settings(raw, stack="dev")


def _run(tmp_path: Path, **env: str) -> Run:
    script = create_script(start_args(MinikubeCluster(node_count=2)))
    config = {"CLUSTER": "kfstack-dev", **env}
    return run_with_fake_tools(script, {"minikube": FAKE_MINIKUBE}, tmp_path, config)


def test_start_args_come_from_config() -> None:
    cluster = MinikubeCluster(
        driver="kvm2", cpus=6, memory_gb=24, disk_size_gb=80, addons=("metrics-server",)
    )
    assert start_args(cluster) == [
        "--driver=kvm2",
        "--cpus=6",
        "--memory=24g",
        "--disk-size=80g",
        "--nodes=1",
        "--kubernetes-version=v1.34.0",
        "--addons=storage-provisioner,default-storageclass,metrics-server",
        "--embed-certs",
        "--wait=all",
    ]


def test_kubeflows_addons_are_always_on() -> None:
    args = start_args(MinikubeCluster(addons=("default-storageclass",)))
    assert f"--addons={','.join(REQUIRED_ADDONS)}" in args


def test_every_supported_version_has_a_minikube_version() -> None:
    for versions in SUPPORTED_KUBERNETES.values():
        for version in versions:
            assert KUBERNETES_VERSIONS[version].startswith(f"v{version}.")


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        ({"driver": "hyperv"}, "kfstack:cluster.driver: Input should be 'docker'"),
        ({"cpus": 1}, "kfstack:cluster.cpus"),
        ({"addons": ["ok", "--rm -rf"]}, "not minikube addon names: '--rm -rf'"),
        ({"region": "r"}, "kfstack:cluster.region: applies only to kinds 'eks' and 'gke'"),
        ({"gatewayHostPort": 1}, "applies only to kind 'kind', not 'minikube'"),
    ],
)
def test_bad_minikube_config_names_the_key(cluster: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(**cluster)
    assert expected in str(caught.value)


def test_minikube_takes_kinds_overlays_and_no_node_port(tmp_path: Path) -> None:
    settings = parse_settings(
        {"kfstack:cluster": json.dumps({"kind": "minikube", "diskSizeGb": 40})}, stack="dev"
    )
    assert settings.cluster.kind == "minikube"
    core = kubeflow_settings(settings, base=tmp_path)
    assert (core.cluster_kind, core.gateway_node_port) == ("kind", None)


def test_creates_raises_inotify_on_each_node_and_prints_the_kubeconfig(tmp_path: Path) -> None:
    done, calls = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "apiVersion: v1\nkind: Config\n"
    start = next(c for c in calls if c.startswith("minikube start"))
    assert start.startswith("minikube start --profile kfstack-dev --driver=docker ")
    assert "--nodes=2" in start
    sysctls = [c for c in calls if c.startswith("minikube ssh")]
    assert [c.split()[5] for c in sysctls] == ["kfstack-dev", "kfstack-dev-m02"]
    for key, value in INOTIFY.items():
        assert f"{key}={value}" in sysctls[0]
    assert not any(c.startswith("minikube delete") for c in calls)


def test_an_existing_profile_of_that_name_is_reported_not_adopted(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, EXISTING="kfstack-dev")
    assert done.returncode == 1
    assert "a minikube profile named kfstack-dev already exists" in done.stderr
    assert not any(c.startswith(("minikube start", "minikube delete")) for c in calls)
    other, calls = _run(tmp_path, EXISTING="kfstack-dev-old")
    assert other.returncode == 0, other.stderr


@pytest.mark.parametrize("failure", ["START_FAILS", "SYSCTL_FAILS"])
def test_a_failed_create_deletes_the_half_made_cluster(tmp_path: Path, failure: str) -> None:
    done, calls = _run(tmp_path, **{failure: "1"})
    assert done.returncode != 0
    assert calls[-1] == "minikube delete --profile kfstack-dev"
    assert "deleting the half-made cluster" in done.stderr
    assert done.stdout == ""
