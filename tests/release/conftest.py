"""The real-release tier: tests that render or plan a whole shared Kubeflow release.

Each render of a release takes 6-9 s (`kubectl kustomize`), so these tests live here, out
of `tests/unit` (the fast loop), share the renders through the session fixtures below, and
are marked `slow`; `make test` runs them with everything else.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import InstallPlan, ObjectKey
from infra.kubeflow.render.kustomize import parse_documents, pinned_kubectl
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms.scope import cluster_scoped_kinds, normalise_key
from tests.settings import full_settings


@dataclass(frozen=True)
class FullPlan:
    """The full preset planned from the real 26.03 manifests, and what it was made from."""

    settings: KubeflowSettings
    cache_dir: Path
    plan: InstallPlan
    example_keys: frozenset[ObjectKey]


def example_keys(kubectl_output: bytes) -> frozenset[ObjectKey]:
    """The keys of `kubectl kustomize example` as the cluster sees them.

    Cluster-scoped kinds never carry the namespace kustomize set.
    """
    manifests = parse_documents(kubectl_output)
    scoped = cluster_scoped_kinds(manifests)
    return frozenset(normalise_key(ObjectKey.of(m), scoped) for m in manifests)


# The Kubernetes version each shared release is planned for (one it supports).
KUBERNETES = {"26.03": "1.34", "v1.10.2": "1.33"}


@pytest.fixture(scope="session")
def release_plans(
    shared_releases: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], FullPlan]:
    """Plan a shared release's full preset once a session (cold), with its example render.

    `kubectl kustomize example` runs in the background while the plan is computed. All
    releases share one cache dir, so other plans of the same source reuse the renders.
    """
    cache_dir = tmp_path_factory.mktemp("kfstack-cache")
    made: dict[str, FullPlan] = {}

    def get(name: str) -> FullPlan:
        if name not in made:
            root = shared_releases[name]
            example = subprocess.Popen(
                [str(pinned_kubectl().path), "kustomize", str(root / "example")],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            settings = full_settings(root, release=name, kubernetes_version=KUBERNETES[name])
            plan = build_plan(settings, cache_dir=cache_dir)
            out, _ = example.communicate()
            assert example.returncode == 0
            made[name] = FullPlan(settings, cache_dir, plan, example_keys(out))
        return made[name]

    return get


@pytest.fixture(scope="session")
def full_plan(release_plans: Callable[[str], FullPlan]) -> FullPlan:
    """The full preset of 26.03, planned once a session."""
    return release_plans("26.03")


@pytest.fixture
def copy_cache(full_plan: FullPlan, tmp_path: Path) -> Path:
    """A private copy of the session cache (render and plan), for tests that change it."""
    target = tmp_path / "cache"
    shutil.copytree(full_plan.cache_dir, target)
    return target


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test of this folder: each renders or plans a real release."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)
