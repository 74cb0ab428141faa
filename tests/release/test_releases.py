"""Every shared release planned end to end, and the upgrade preview between them.

Whole-release renders are slow (`kubectl kustomize` of a release is 6-9 s on an idle
machine): they are shared by the session fixture `release_plans` and marked `slow`.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from infra import plan as plan_cli
from infra.kubeflow import build_plan, diff_plans, load_plan_dir
from infra.kubeflow.graph import explain_edges, install_waves
from infra.kubeflow.graph.webhooks import backend_workloads, webhooks_of
from infra.kubeflow.objects import InstallPlan, ObjectKey
from tests.release.conftest import FullPlan

pytestmark = pytest.mark.slow

RELEASES = ("26.03", "v1.10.2")
DEFAULTS = (
    "12341234",
    "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72",
    "minio123",
    "pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok",
    "7d16fee92f8d11b8940b081b3f8b8acb",
)
Plans = Callable[[str], FullPlan]


def _deploy(name: str, namespace: str = "kubeflow") -> ObjectKey:
    return ObjectKey("apps", "Deployment", namespace, name)


def _profiles(keys: set[ObjectKey] | frozenset[ObjectKey]) -> set[ObjectKey]:
    return {k for k in keys if (k.group, k.kind) == ("kubeflow.org", "Profile")}


@pytest.mark.parametrize("name", RELEASES)
def test_full_preset_objects_equal_the_example(name: str, release_plans: Plans) -> None:
    made = release_plans(name)
    plan = made.plan
    assert plan.release == name  # the release the source holds, recorded
    keys = {o.key for o in plan.objects}
    assert keys - _profiles(keys) == made.example_keys - _profiles(made.example_keys)
    users = {ObjectKey("kubeflow.org", "Profile", "", u.profile) for u in made.settings.users}
    assert _profiles(keys) == users  # the stack's users replace the example Profile
    assert plan.unknown_components == ()
    assert not [f for f in plan.findings if f.rule.startswith(("catalogue.", "release."))]
    assert plan.errors == ()


@pytest.mark.parametrize("name", RELEASES)
def test_no_default_credential_left(name: str, release_plans: Plans) -> None:
    plan = release_plans(name).plan
    text = json.dumps([o.manifest for o in plan.objects], sort_keys=True)
    for value in DEFAULTS:
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text
    assert "MYSQL_ALLOW_EMPTY_PASSWORD" not in text
    assert not [f for f in plan.findings if f.rule == "policy.default-credential"]
    assert {"object-store-secret-key", "dex-user-password-hash"} <= {s.name for s in plan.secrets}


def _wave_of(plan: InstallPlan) -> dict[ObjectKey, int]:
    return {key: i for i, wave in enumerate(plan.waves) for key in wave}


@pytest.mark.parametrize("name", RELEASES)
def test_no_cycle_and_every_cr_after_its_crd(name: str, release_plans: Plans) -> None:
    plan = release_plans(name).plan
    assert install_waves([o.key for o in plan.objects], plan.edges) == plan.waves
    wave = _wave_of(plan)
    crds = {
        (o.manifest["spec"]["group"], o.manifest["spec"]["names"]["kind"]): o.key
        for o in plan.objects
        if o.key.kind == "CustomResourceDefinition"
    }
    custom = [o.key for o in plan.objects if (o.key.group, o.key.kind) in crds]
    assert len(custom) > 10
    for key in custom:
        crd = crds[(key.group, key.kind)]
        assert crd in plan.edges[key] and wave[key] > wave[crd]


@pytest.mark.parametrize("name", RELEASES)
def test_webhook_intercepted_objects_after_webhook_and_workload(
    name: str, release_plans: Plans
) -> None:
    plan = release_plans(name).plan
    wave = _wave_of(plan)
    by_key = {o.key: o.manifest for o in plan.objects}
    intercepted = [e for e in explain_edges(list(by_key.values())) if e.rule == "webhook"]
    assert len(intercepted) > 20
    fail_closed = {w.config: w for m in by_key.values() for w in webhooks_of(m) if w.fails_closed}
    for edge in intercepted:
        assert wave[edge.dependent] > wave[edge.dependency]
        if edge.dependency in fail_closed:  # the configuration: its workloads come first too
            _, workloads = backend_workloads(fail_closed[edge.dependency], by_key)
            assert all(wave[edge.dependent] > wave[w] for w in workloads)


@pytest.fixture(scope="session")
def upgrade(release_plans: Plans) -> tuple[FullPlan, FullPlan]:
    return release_plans("v1.10.2"), release_plans("26.03")


def test_against_the_previous_release(upgrade: tuple[FullPlan, FullPlan]) -> None:
    old, new = upgrade
    diff = diff_plans(
        old.plan.objects, new.plan.objects, old_release="v1.10.2", new_release="26.03"
    )
    assert (diff.old_release, diff.new_release) == ("v1.10.2", "26.03")
    assert _deploy("seaweedfs") in diff.added
    assert (
        ObjectKey(
            "apiextensions.k8s.io", "CustomResourceDefinition", "", "trainjobs.trainer.kubeflow.org"
        )
        in diff.added
    )
    assert _deploy("minio") in diff.removed and _deploy("training-operator") in diff.removed
    changed = {c.key: c for c in diff.changed}
    api = changed[_deploy("ml-pipeline")]
    assert any("containers[ml-pipeline-api-server].image" in f for f in api.fields)
    assert api.fields[0].startswith("spec.template.spec.containers[ml-pipeline-api-server].image")
    crds = {c.key.name: c for c in diff.crd_versions}
    policy = crds["authorizationpolicies.security.istio.io"]
    assert (policy.old_storage, policy.new_storage) == ("v1beta1", "v1")
    risky = dict(diff.data_at_risk)
    assert "removed" in risky[_deploy("minio")]
    assert ObjectKey("", "PersistentVolumeClaim", "kubeflow", "minio-pvc") in risky
    total = len(diff.added) + len(diff.changed) + diff.unchanged
    assert total == len(new.plan.objects)
    again = diff_plans(
        old.plan.objects, new.plan.objects, old_release="v1.10.2", new_release="26.03"
    )
    assert json.dumps(again.to_json()) == json.dumps(diff.to_json())  # deterministic


def test_against_a_plan_folder_via_the_cli(
    upgrade: tuple[FullPlan, FullPlan],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = upgrade
    baseline = tmp_path / "baseline"
    plan_cli.write_objects(old.plan, baseline)
    release, objects = load_plan_dir(baseline)
    assert release == "v1.10.2" and {o.key for o in objects} == {o.key for o in old.plan.objects}
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.t.yaml").write_text("config: {}\n")
    monkeypatch.setattr("infra.config.kubeflow_settings_from_stack_file", lambda _p: new.settings)
    monkeypatch.setattr("infra.kubeflow.build_plan", lambda *_a, **_k: new.plan)
    out = tmp_path / "out"
    argv = ["-s", "t", "--stack-dir", str(stacks), "--against", str(baseline), "--out", str(out)]
    assert plan_cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "against v1.10.2 -> 26.03" in printed and "holding data" in printed
    written = json.loads((out / "diff.json").read_text())
    expected = diff_plans(objects, new.plan.objects, old_release="v1.10.2", new_release="26.03")
    assert written == json.loads(json.dumps(expected.to_json()))
    assert plan_cli.main(argv) == 0
    assert json.loads((out / "diff.json").read_text()) == written


def test_a_layout_the_table_does_not_know(
    release_plans: Plans, shared_releases: dict[str, Path], tmp_path: Path
) -> None:
    """v1.10.2 with the PVC viewer moved (and the example pointing at its new folder)."""
    made = release_plans("v1.10.2")
    root = tmp_path / "manifests"
    shutil.copytree(shared_releases["v1.10.2"], root, symlinks=False)
    (root / "applications" / "pvcviewer-controller").rename(root / "applications" / "pvc-viewer")
    example = root / "example" / "kustomization.yaml"
    example.write_text(example.read_text().replace("/pvcviewer-controller/", "/pvc-viewer/"))
    plan = build_plan(
        replace(made.settings, source=replace(made.settings.source, path=root)),
        cache_dir=made.cache_dir,
    )
    assert plan.release == "v1.10.2" and plan.unknown_components == ("pvc-viewer",)
    assert {o.key for o in plan.objects} == {o.key for o in made.plan.objects}
    moved = {o.key for o in plan.objects if o.component == "pvc-viewer"}
    assert _deploy("pvcviewer-controller-manager") in moved
    warnings = [f.message for f in plan.findings if f.rule == "catalogue.unplaced"]
    assert any("'applications/pvc-viewer/upstream/base'" in w for w in warnings)
    assert any("could not place component 'pvcviewer'" in w for w in warnings)
    assert plan.errors == ()
