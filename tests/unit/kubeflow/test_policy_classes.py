"""Each class of hostile object, planted in an overlay of a real release, is an error naming it.

The objects (tests/unit/kubeflow/hostile.py) go into a copy of one real 26.03 component;
the plan is computed end to end (kustomize, transforms, checks) with the settings of the
dev and of the prod stack file, as `kfstack plan -s <stack>` computes them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from infra.config import kubeflow_settings_from_stack_file
from infra.kubeflow.core import build_plan
from infra.kubeflow.graph.protection import protected_objects
from infra.kubeflow.objects import InstallPlan, ObjectKey
from infra.kubeflow.settings import ManifestSource
from tests.settings import REPO
from tests.unit.kubeflow.hostile import CLASSES, plant, planted, user_claim

STACKS = ("dev", "prod")


@pytest.fixture(scope="module", params=STACKS)
def hostile_plan(
    request: pytest.FixtureRequest,
    kubeflow_manifests: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, str, InstallPlan]:
    stack = str(request.param)
    settings = kubeflow_settings_from_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
    user = settings.users[0].profile
    objects = [m for _, m, _, _ in planted(user)] + [user_claim(user)]
    root = plant(kubeflow_manifests, tmp_path_factory.mktemp(f"hostile-{stack}"), objects)
    settings = replace(
        settings,
        release="26.03",
        preset=None,
        components=("kubeflow-namespace",),
        source=ManifestSource(path=root),
        kubernetes_version="1.34",
    )
    plan = build_plan(settings, cache_dir=root / "cache", use_cache=False)
    return stack, user, plan


CASES = [(name, i) for name, entries in CLASSES.items() for i in range(len(entries))]


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_each_hostile_object_is_an_error_naming_it_and_why(
    hostile_plan: tuple[str, str, InstallPlan], name: str, index: int
) -> None:
    """One case per object, ids by class: pod-shapes, rbac, admission, mesh, exposure."""
    _, user, plan = hostile_plan
    (_, manifest, rule, what) = [p for p in planted(user) if p[0] == name][index]
    key = ObjectKey.of(manifest)
    mine = [f for f in plan.errors if f.key == key and f.rule == rule]
    assert mine, f"no {rule} error for {key}: {[str(f) for f in plan.findings if f.key == key]}"
    assert any(what in f.message for f in mine), [f.message for f in mine]


def test_the_users_claim_of_a_host_volume_is_protected_data(
    hostile_plan: tuple[str, str, InstallPlan],
) -> None:
    _, user, plan = hostile_plan
    protected = protected_objects(plan.objects)
    assert ObjectKey("", "PersistentVolumeClaim", user, "grab") in protected
    assert ObjectKey("", "PersistentVolume", "", "node-root") in protected


def test_a_webhook_nothing_serves_is_an_error(hostile_plan: tuple[str, str, InstallPlan]) -> None:
    """Its Service is not in the plan, so the graph could only install it first."""
    _, _, plan = hostile_plan
    key = ObjectKey(
        "admissionregistration.k8s.io", "MutatingWebhookConfiguration", "", "secret-reader"
    )
    (finding,) = [f for f in plan.errors if f.key == key and f.rule == "policy.webhook-unserved"]
    assert "kubeflow/admission-webhook-service is not in the plan" in finding.message
