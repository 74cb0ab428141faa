"""The engine harness's pure parts (run in `make test`, no control plane needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.config import parse_settings
from tests.engine.harness import (
    REPO,
    ControlPlane,
    changed_names,
    engine_path,
    engine_stack_config,
)


def test_changed_names_are_the_kubernetes_objects_that_change() -> None:
    chain = "kfstack:kubeflow:KubeflowPlatform$kubernetes:kubeflow.org/v1:Profile"
    steps = [
        {"op": "create", "urn": f"urn:pulumi:e::kfstack::{chain}::profile-b"},
        {"op": "same", "urn": f"urn:pulumi:e::kfstack::{chain}::profile-a"},
        {"op": "update", "urn": "urn:pulumi:e::kfstack::pulumi:pulumi:Stack::kfstack-e"},
        {"op": "update", "urn": "urn:pulumi:e::kfstack::pulumi:providers:kubernetes::existing"},
    ]
    assert changed_names(json.dumps({"steps": steps})) == {"profile-b"}


def test_the_engine_stack_config_is_valid_stack_config(tmp_path: Path) -> None:
    plane = ControlPlane(netns="ns", kubeconfig=tmp_path / "kubeconfig", state=tmp_path)
    config = engine_stack_config(plane, tmp_path, users=["a@example.com", "b@example.com"])
    settings = parse_settings(config, stack="engine", require_secrets=False)
    assert settings.kubeflow.test_mode == "kwok"
    assert settings.cluster.kind == "existing"
    assert settings.kubeflow.preset == "ml-core"


def test_the_engine_cache_does_not_follow_the_sessions_private_xdg_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The session's conftest points XDG_CACHE_HOME at a private folder after collection;
    # the fixtures must find the binaries where collection found them.
    before = engine_path()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("KFSTACK_ENGINE_CACHE", raising=False)
    assert engine_path() == before
    assert str(tmp_path) not in engine_path()


def test_kwok_renews_node_leases_when_its_heartbeat_stage_relies_on_them() -> None:
    # The lease heartbeat stage patches node status only every ~10 min: without kwok renewing
    # the nodes' Leases the controller manager marked every node NotReady after its 40 s grace
    # period (the first real `up` found it), and pods were evicted mid-install.
    build = (REPO / "scripts" / "engine-build").read_text()
    cluster = (REPO / "scripts" / "engine-cluster").read_text()
    assert "heartbeat-with-lease" in build
    lease = re.search(r"--node-lease-duration-seconds=(\d+)", cluster)
    assert lease is not None and int(lease.group(1)) > 0
