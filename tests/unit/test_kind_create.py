"""The kind create step, run by bash against fake `kind` and `docker` executables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.cluster.kind import INOTIFY, NODE_IMAGES, create_script
from tests.fake_tools import Run, run_with_fake_tools

FAKE_KIND = """#!/bin/bash
echo "kind $*" >> "$LOG"
case "$1 $2" in
  "get clusters") printf "%s" "${EXISTING:-}" ;;
  "create cluster") cat > /dev/null; [ "${CREATE_FAILS:-0}" = 1 ] && exit 1; exit 0 ;;
  "get nodes") echo "$CLUSTER-control-plane" ;;
  "get kubeconfig") echo "apiVersion: v1" ;;
  "delete cluster") exit 0 ;;
esac
"""
FAKE_DOCKER = """#!/bin/bash
echo "docker $*" >> "$LOG"
[ "${SYSCTL_FAILS:-0}" = 1 ] && exit 1
exit 0
"""


def _run(tmp_path: Path, **env: str) -> Run:
    tools = {"kind": FAKE_KIND, "docker": FAKE_DOCKER}
    config = {"CLUSTER": "kfstack-dev", "KIND_CONFIG": "kind: Cluster", **env}
    return run_with_fake_tools(create_script(), tools, tmp_path, config)


def test_creates_raises_inotify_and_prints_the_kubeconfig(tmp_path: Path) -> None:
    done, calls = _run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "apiVersion: v1\n"
    assert "kind create cluster --name kfstack-dev --config - --wait 180s" in calls
    sysctl = next(c for c in calls if c.startswith("docker exec"))
    for key, value in INOTIFY.items():
        assert f"{key}={value}" in sysctl
    assert not any(c.startswith("kind delete") for c in calls)


def test_an_existing_cluster_of_that_name_is_reported_not_adopted(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, EXISTING="other\nkfstack-dev\n")
    assert done.returncode == 1
    assert "a kind cluster named kfstack-dev already exists" in done.stderr
    assert not any(c.startswith(("kind create", "kind delete")) for c in calls)


@pytest.mark.parametrize("failure", ["CREATE_FAILS", "SYSCTL_FAILS"])
def test_a_failed_create_deletes_the_half_made_cluster(tmp_path: Path, failure: str) -> None:
    done, calls = _run(tmp_path, **{failure: "1"})
    assert done.returncode != 0
    assert calls[-1] == "kind delete cluster --name kfstack-dev"
    assert "deleting the half-made cluster" in done.stderr
    assert done.stdout == ""


def test_node_images_are_pinned_by_digest() -> None:
    for version, image in NODE_IMAGES.items():
        assert re.fullmatch(
            rf"kindest/node:v{re.escape(version)}\.\d+@sha256:[0-9a-f]{{64}}", image
        )
