"""Each class of hostile object, planted in an overlay of a real release, is an error naming it.

The objects (tests/unit/kubeflow/hostile.py) go into a copy of one real 26.03 component;
the plan is computed end to end (kustomize, transforms, checks) with the settings of the
dev and of the prod stack file, as `kfstack plan -s <stack>` computes them.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from infra.config import kubeflow_settings_from_stack_file
from infra.kubeflow.core import build_plan
from infra.kubeflow.graph.protection import protected_objects
from infra.kubeflow.objects import InstallPlan, ObjectKey
from infra.kubeflow.settings import ManifestSource
from tests.settings import REPO
from tests.unit.kubeflow.hostile import CLASSES, planted, user_claim

COMPONENT = Path("common/kubeflow-namespace/base")
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
    root = tmp_path_factory.mktemp(f"hostile-{stack}")
    shutil.copytree(kubeflow_manifests / COMPONENT, root / COMPONENT)
    shutil.copytree(kubeflow_manifests / "example", root / "example")
    objects = [m for _, m, _, _ in planted(user)] + [user_claim(user)]
    (root / COMPONENT / "hostile.yaml").write_text(yaml.safe_dump_all(objects))
    kustomization = root / COMPONENT / "kustomization.yaml"
    document = yaml.safe_load(kustomization.read_text())
    document["resources"].append("hostile.yaml")
    kustomization.write_text(yaml.safe_dump(document))
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


def _cases(name: str) -> list[tuple[int, str]]:
    return [(i, name) for i in range(len(CLASSES[name]))]


def _check(hostile_plan: tuple[str, str, InstallPlan], name: str, index: int) -> None:
    _, user, plan = hostile_plan
    (_, manifest, rule, what) = [p for p in planted(user) if p[0] == name][index]
    key = ObjectKey.of(manifest)
    mine = [f for f in plan.errors if f.key == key and f.rule == rule]
    assert mine, f"no {rule} error for {key}: {[str(f) for f in plan.findings if f.key == key]}"
    assert any(what in f.message for f in mine), [f.message for f in mine]


@pytest.mark.parametrize("index", range(len(CLASSES["pod-shapes"])))
def test_pod_specs_in_any_shape(hostile_plan: tuple[str, str, InstallPlan], index: int) -> None:
    _check(hostile_plan, "pod-shapes", index)


@pytest.mark.parametrize("index", range(len(CLASSES["rbac"])))
def test_rbac(hostile_plan: tuple[str, str, InstallPlan], index: int) -> None:
    _check(hostile_plan, "rbac", index)


@pytest.mark.parametrize("index", range(len(CLASSES["admission"])))
def test_admission_webhooks(hostile_plan: tuple[str, str, InstallPlan], index: int) -> None:
    _check(hostile_plan, "admission", index)


@pytest.mark.parametrize("index", range(len(CLASSES["mesh"])))
def test_mesh(hostile_plan: tuple[str, str, InstallPlan], index: int) -> None:
    _check(hostile_plan, "mesh", index)


@pytest.mark.parametrize("index", range(len(CLASSES["exposure"])))
def test_exposure_storage_and_namespaces(
    hostile_plan: tuple[str, str, InstallPlan], index: int
) -> None:
    _check(hostile_plan, "exposure", index)


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
