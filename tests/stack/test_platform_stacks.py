"""The whole program under mocks: the registered graph is the install plan's graph.

Each stack file runs once (module fixture) with its manifests source pointed at the
real Kubeflow 26.03 release in ../shared; the plan is built from the same settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.components.kubeflow import type_token
from infra.config import kubeflow_settings, settings_from_stack_file
from infra.config_model import SECRET_KEYS
from infra.kubeflow.core import build_plan
from infra.kubeflow.errors import PlanError
from infra.kubeflow.graph.protection import protected_objects
from infra.kubeflow.objects import InstallPlan, ObjectKey
from tests.stack.harness import Recording, Registered, run_stack_file

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "stacks"
PLATFORM = "kfstack:kubeflow:KubeflowPlatform"
DEFAULT_CREDENTIALS = (
    "12341234",
    "minio123",
    "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72",
)


@dataclass
class StackRun:
    env: str
    recording: Recording
    plan: InstallPlan

    def objects(self) -> dict[str, Registered]:
        """The Kubernetes objects of the platform (the cluster's own, like gp3, excluded)."""
        platform = self.recording.one(PLATFORM, "kubeflow")
        return {
            r.name: r
            for r in self.recording.resources
            if r.type.startswith("kubernetes:") and r.parent == platform.urn
        }


def _source(manifests: Path) -> dict[str, object]:
    return {"kfstack:kubeflow": {"source": {"path": str(manifests)}}}


def _run(env: str, manifests: Path) -> StackRun:
    secrets = {f"kfstack:{k}": f"{env}-{k}-value" for k in SECRET_KEYS} if env == "prod" else None
    recording = run_stack_file(
        STACKS / f"Pulumi.{env}.yaml", overrides=_source(manifests), secrets=secrets
    )
    stack_settings = settings_from_stack_file(STACKS / f"Pulumi.{env}.yaml")
    raw = stack_settings.model_dump(by_alias=True)
    raw["kubeflow"]["source"] = {"path": str(manifests)}
    settings = type(stack_settings).model_validate(raw)
    plan = build_plan(kubeflow_settings(settings, base=REPO))
    return StackRun(env, recording, plan)


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def stack_run(request: pytest.FixtureRequest, kubeflow_manifests: Path) -> StackRun:
    return _run(request.param, kubeflow_manifests)


def test_one_resource_per_plan_object(stack_run: StackRun) -> None:
    registered = stack_run.objects()
    planned = {o.key.resource_name: o for o in stack_run.plan.objects}
    assert set(registered) == set(planned)
    for name, obj in planned.items():
        manifest = obj.manifest
        assert registered[name].type == type_token(manifest["apiVersion"], manifest["kind"])
        assert registered[name].inputs["metadata"]["name"] == obj.key.name


def test_dependencies_are_the_plan_edges(stack_run: StackRun) -> None:
    registered = stack_run.objects()
    urn_to_key = {registered[o.key.resource_name].urn: o.key for o in stack_run.plan.objects}
    edge_count = 0
    for obj in stack_run.plan.objects:
        resource = registered[obj.key.resource_name]
        deps = {urn_to_key[u] for u in resource.dependencies if u in urn_to_key}
        assert deps == set(stack_run.plan.edges.get(obj.key, ())), str(obj.key)
        edge_count += len(deps)
    assert edge_count > len(stack_run.plan.objects)


def test_objects_use_the_cluster_provider_and_platform_parent(stack_run: StackRun) -> None:
    platform = stack_run.recording.one(PLATFORM, "kubeflow")
    providers = stack_run.recording.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1
    for resource in stack_run.recording.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider.startswith(providers[0].urn), resource.name
            # Only the cluster's own objects (EKS's gp3 class) live outside the platform.
            if resource.parent != platform.urn:
                assert (resource.name, stack_run.env) == ("gp3", "prod")


def test_secret_values_are_pulumi_secrets_and_no_default_credential(stack_run: StackRun) -> None:
    secrets = [r for r in stack_run.objects().values() if r.type == "kubernetes:core/v1:Secret"]
    assert secrets
    tokened = [o for o in stack_run.plan.objects if "{{kfstack.secret:" in json.dumps(o.manifest)]
    assert tokened
    registered = stack_run.objects()
    for obj in tokened:
        resource = registered[obj.key.resource_name]
        fields = [f for f in obj.manifest if "{{kfstack.secret:" in json.dumps(obj.manifest[f])]
        for field in fields:
            assert resource.is_secret(field), f"{obj.key} {field}"
            assert "{{kfstack.secret:" not in json.dumps(resource.inputs[field])
    everything = json.dumps([r.inputs for r in stack_run.recording.resources], default=str)
    for default in DEFAULT_CREDENTIALS:
        assert default not in everything


def test_data_is_protected_only_in_prod(stack_run: StackRun) -> None:
    registered = stack_run.objects()
    reasons = protected_objects(stack_run.plan.objects)
    holding = [o for o in stack_run.plan.objects if o.holds_data]
    assert holding and all(o.key in reasons for o in holding)
    # What contains the data is protected too: every Profile, the kubeflow Namespace.
    profiles = [k for k in reasons if k.kind == "Profile"]
    assert profiles
    assert ObjectKey("", "Namespace", "", "kubeflow") in reasons
    for key in reasons:
        resource = registered[key.resource_name]
        assert resource.protect is (stack_run.env == "prod"), str(key)
        assert resource.retain_on_delete is (stack_run.env == "prod"), str(key)
    others = [o for o in stack_run.plan.objects if o.key not in reasons]
    assert not any(registered[o.key.resource_name].protect for o in others)


def test_prod_volumes_are_retained_by_the_storage_class(stack_run: StackRun) -> None:
    classes = stack_run.recording.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    if stack_run.env == "prod":
        (gp3,) = classes
        assert gp3.inputs["reclaimPolicy"] == "Retain"


def test_a_version_move_of_a_custom_resource_is_an_alias(stack_run: StackRun) -> None:
    registered = stack_run.objects()
    (profile, *_) = [o for o in stack_run.plan.objects if o.key.kind == "Profile"]
    assert profile.manifest["apiVersion"] == "kubeflow.org/v1"
    aliases = registered[profile.key.resource_name].aliases
    assert any("kubernetes:kubeflow.org/v1beta1:Profile" in a for a in aliases), aliases
    deployment = next(o for o in stack_run.plan.objects if o.key.kind == "Deployment")
    assert registered[deployment.key.resource_name].aliases == []


def test_credentials_are_generated_or_taken_from_config(stack_run: StackRun) -> None:
    generated = stack_run.recording.of_type("random:index/randomPassword:RandomPassword")
    if stack_run.env == "prod":
        assert not generated
    else:
        assert {r.name for r in generated} == {s.config_key for s in stack_run.plan.secrets}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"kfstack:kubeflow": {"preset": None, "components": ["pipelines", "no-such-thing"]}},
            "no-such-thing",
        ),
        (
            {"kfstack:kubeflow": {"source": {"path": "/nonexistent/kubeflow"}}},
            "kfstack:kubeflow.source.path",
        ),
    ],
)
def test_bad_platform_input_registers_nothing(override: dict[str, object], message: str) -> None:
    recording = Recording()
    with pytest.raises(ValueError, match=message):
        run_stack_file(STACKS / "Pulumi.dev.yaml", overrides=override, recording=recording)
    assert recording.resources == []


def test_kustomize_error_registers_nothing(tmp_path: Path, kubeflow_manifests: Path) -> None:
    broken = tmp_path / "manifests"
    broken.mkdir()
    for child in kubeflow_manifests.iterdir():
        (broken / child.name).symlink_to(child)
    (broken / "common").unlink()
    (broken / "common").mkdir()
    for child in (kubeflow_manifests / "common").iterdir():
        (broken / "common" / child.name).symlink_to(child)
    (broken / "common" / "dex").unlink()
    (broken / "common" / "dex" / "overlays" / "oauth2-proxy").mkdir(parents=True)
    (broken / "common" / "dex" / "overlays" / "oauth2-proxy" / "kustomization.yaml").write_text(
        "resources:\n- does-not-exist.yaml\n"
    )
    recording = Recording()
    with pytest.raises(PlanError, match="does-not-exist"):
        run_stack_file(STACKS / "Pulumi.dev.yaml", overrides=_source(broken), recording=recording)
    assert recording.resources == []


def test_key_type_token_for_core_group() -> None:
    assert type_token("v1", "Secret") == "kubernetes:core/v1:Secret"
    assert type_token("apps/v1", "Deployment") == "kubernetes:apps/v1:Deployment"
    assert ObjectKey("", "Secret", "a", "b").resource_name.startswith("secret:")


def test_two_runs_register_identical_resources(kubeflow_manifests: Path) -> None:
    """Determinism: the same inputs register the same resources with the same inputs."""

    def snapshot() -> list[tuple[str, str, str, list[str], bool]]:
        rec = run_stack_file(STACKS / "Pulumi.dev.yaml", overrides=_source(kubeflow_manifests))
        return [
            (
                r.type,
                r.name,
                json.dumps(r.inputs, sort_keys=True, default=str),
                sorted(r.dependencies),
                r.protect,
            )
            for r in rec.resources
        ]

    first, second = snapshot(), snapshot()
    assert len(first) > 500
    assert sorted(first) == sorted(second)
