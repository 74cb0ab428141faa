"""Shared fixtures of the Kubeflow core tests: the real full plan, rendered once a session."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import InstallPlan, ObjectKey
from infra.kubeflow.render.kustomize import parse_documents, pinned_kubectl
from infra.kubeflow.settings import KubeflowSettings, ManifestSource
from infra.kubeflow.transforms.scope import cluster_scoped_kinds, normalise_key

# The example installs the m2m-dex-only oauth2-proxy overlay: the cluster kind "existing".
# istio-cni needs SYS_ADMIN (the policy flags it unless allowed).
ALLOW = ("DaemonSet/kube-system/istio-cni-node",)


@dataclass(frozen=True)
class FullPlan:
    """The full preset planned from the real 26.03 manifests, and what it was made from."""

    settings: KubeflowSettings
    cache_dir: Path
    plan: InstallPlan
    example_keys: frozenset[ObjectKey]


def full_settings(manifests: Path, **changes: Any) -> KubeflowSettings:
    base = KubeflowSettings(
        preset="full",
        cluster_kind="existing",
        source=ManifestSource(path=manifests),
        allow_privileged=ALLOW,
    )
    return replace(base, **changes)


@pytest.fixture(scope="session")
def full_plan(kubeflow_manifests: Path, tmp_path_factory: pytest.TempPathFactory) -> FullPlan:
    """Plan the full preset once (cold, into a session cache dir), with the example render.

    `kubectl kustomize example` runs in the background while the plan is computed.
    """
    cache_dir = tmp_path_factory.mktemp("kfstack-cache")
    example = subprocess.Popen(
        [str(pinned_kubectl().path), "kustomize", str(kubeflow_manifests / "example")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    settings = full_settings(kubeflow_manifests)
    plan = build_plan(settings, cache_dir=cache_dir)
    out, _ = example.communicate()
    assert example.returncode == 0
    # The cluster's view: cluster-scoped kinds never carry the namespace kustomize set.
    manifests = parse_documents(out)
    scoped = cluster_scoped_kinds(manifests)
    keys = frozenset(normalise_key(ObjectKey.of(m), scoped) for m in manifests)
    return FullPlan(settings, cache_dir, plan, keys)


@pytest.fixture
def copy_cache(full_plan: FullPlan, tmp_path: Path) -> Path:
    """A private copy of the session cache (render and plan), for tests that change it."""
    target = tmp_path / "cache"
    shutil.copytree(full_plan.cache_dir, target)
    return target
