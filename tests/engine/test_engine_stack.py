"""The real engine in the loop: pulumi preview/up/destroy of ml-core against a real API server.

One control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok with three fake
nodes) in a network namespace of its own, the stack `engine` of kind `existing` pointed at it,
a file backend, every secret provided, test mode `kwok` (webhooks fail open). The tests run
in file order and share the stack: up, then previews, serving, destroy.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from infra.config import kubeflow_settings_from_stack_file
from infra.kubeflow.core import build_plan
from ml.model import TrainConfig, predict_rows
from ml.workers.jobs import RUNTIME, TFJOB, TRAINJOB, JobRequest, job_manifest
from ml.workers.spec import WorkerSpec
from ml.workers.step import job_name
from tests.components import render_component
from tests.engine.fakes import fake_controllers
from tests.engine.harness import (
    REPO,
    ControlPlane,
    PulumiProject,
    changed_names,
    check,
    engine_stack_config,
    init_engine_stack,
    objects_present,
)
from tests.engine.registry import PROXY
from tests.engine.store import Store, object_store
from tests.engine.trainer import FakeTrainer, fake_trainer
from tests.engine.training import HOSTS, IMAGE, TrainStep
from tests.profile_controller import profile_grant
from tests.serving_fixtures import make_release, write_pipeline, write_release_file

pytestmark = pytest.mark.engine

STACK = "engine"
USER = "user@example.com"
SECOND_USER = "second@example.com"
PROFILE = "kubeflow-user-example-com"  # USER's
TRAINJOBS = f"{TRAINJOB.plural}.{TRAINJOB.group}"
SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
#: `kfstack:training.maxWorkers` of the stack: the Trainer and kfstack's runtime are planned.
WORKERS = 2


@pytest.fixture(scope="module")
def stack(project: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path) -> PulumiProject:
    """The engine stack, initialised with every secret set (no resource created yet)."""
    return init_engine_stack(project, plane, kubeflow_manifests, STACK, [USER], max_workers=WORKERS)


@pytest.mark.parametrize("shipped", ["dev", "staging", "prod"])
def test_shipped_stack_config_passes_the_cli_validation(
    cli_project: PulumiProject, shipped: str
) -> None:
    """The CLI accepts each shipped stack file (clouds fail later, for want of credentials)."""
    project = cli_project
    shutil.copy(REPO / "stacks" / f"Pulumi.{shipped}.yaml", project.root / "stacks")
    project.init_stack(shipped)
    result = project.pulumi("preview", "-s", shipped, timeout=900)
    output = result.stdout + result.stderr
    assert "missing required configuration" not in output.lower(), output
    assert "configuration" not in _cli_errors(output), output
    # The program ran: the CLI got past config validation and started the language host.
    assert "pulumi:pulumi:Stack" in output or result.returncode == 0, output
    # Where the program stops (no network for the release's git source, prod's secrets
    # unset), it stops with one error line of its own (a pulumi.RunError), never a traceback:
    # the first real run found a crash, and bad input used to print one.
    assert "Program failed with an unhandled exception" not in output, output
    assert "Traceback" not in output, output


def _cli_errors(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if line.startswith("error:")).lower()


def test_up_creates_every_object_and_resolves_every_wait(
    stack: PulumiProject, plane: ControlPlane
) -> None:
    with fake_controllers(plane, stack.env) as fakes:
        result = stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK)
    check(result, "pulumi up")
    plan = build_plan(kubeflow_settings_from_stack_file(_stack_file(stack)))
    outputs = json.loads(
        check(stack.pulumi("stack", "output", "--json", "-s", STACK), "output").stdout
    )
    assert outputs["kubeflowObjects"] == len(plan.objects)
    state = json.loads(check(stack.pulumi("stack", "export", "-s", STACK), "export").stdout)
    registered = {
        resource["urn"].split("::")[-1]
        for resource in state["deployment"]["resources"]
        if resource["type"].startswith("kubernetes:") and not resource.get("pendingReplacement")
    }
    assert {o.key.resource_name for o in plan.objects} <= registered
    wanted = {o.key.name for o in plan.objects if o.key.kind == "Namespace"}
    assert wanted <= _namespaces(plane, stack)
    print(fakes.summary())


def test_preview_right_after_up_has_no_changes(stack: PulumiProject) -> None:
    check(
        stack.pulumi("preview", "--expect-no-changes", "-s", STACK), "preview --expect-no-changes"
    )


def test_adding_a_user_previews_exactly_the_objects_it_changes(
    stack: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path
) -> None:
    before = build_plan(kubeflow_settings_from_stack_file(_stack_file(stack)))
    stack.write_stack(STACK, _config(plane, kubeflow_manifests, users=[USER, SECOND_USER]))
    try:
        after = build_plan(kubeflow_settings_from_stack_file(_stack_file(stack)))
        old = {o.key: o.manifest for o in before.objects}
        expected = {o.key.resource_name for o in after.objects if old.get(o.key) != o.manifest} | {
            k.resource_name for k in old.keys() - {o.key for o in after.objects}
        }
        result = check(stack.pulumi("preview", "--json", "-s", STACK), "preview --json")
        assert changed_names(result.stdout) == expected
        assert expected  # a new Profile at least
    finally:
        stack.write_stack(STACK, _config(plane, kubeflow_manifests))


@pytest.mark.usefixtures("registry")
def test_serving_with_storage_uri_creates_pipeline_and_inference_service(
    stack: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path, tmp_path: Path
) -> None:
    pipeline = write_pipeline(tmp_path / "pipeline.yaml")
    record = write_release_file(tmp_path / "release.json", make_release())  # the same each call
    config = _config(plane, kubeflow_manifests)
    profile = "kubeflow-user-example-com"
    config["kfstack:serving"] = {
        "pipelinePackage": str(pipeline),
        "releaseRecord": str(record),
        "namespace": profile,
        "storage": "uri",
    }
    stack.write_stack(STACK, config)
    release = make_release()
    with fake_controllers(plane, stack.env):
        check(stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK), "pulumi up (serving)")
    # The entry went through the real API server's service proxy (the dynamic provider).
    found = f"{PROXY}/api/model_registry/v1alpha3/registered_model?name={release.name}"
    model = check(plane.kubectl("get", "--raw", found, env=stack.env), "registry").stdout
    assert json.loads(model)["name"] == release.name
    check(stack.pulumi("preview", "--expect-no-changes", "-s", STACK), "preview after serving")
    services = plane.kubectl_json("get", "inferenceservices.serving.kserve.io", "-A", env=stack.env)
    assert [s["metadata"]["namespace"] for s in services["items"]] == [profile]
    pipelines = plane.kubectl_json("get", "pipelines.pipelines.kubeflow.org", "-A", env=stack.env)
    versions = plane.kubectl_json(
        "get", "pipelineversions.pipelines.kubeflow.org", "-A", env=stack.env
    )
    assert pipelines["items"]
    assert versions["items"]


@pytest.fixture(scope="module")
def training(
    stack: PulumiProject, plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TrainStep, FakeTrainer, Store]]:
    """The profile's train step, the fake Trainer and the store, for the training tests."""
    scratch = tmp_path_factory.mktemp("training")
    grant = profile_grant("26.03", PROFILE)
    assert grant.allowed_prefixes is not None
    with (
        fake_controllers(plane, stack.env),
        object_store(plane, {grant.keys[0]: grant.allowed_prefixes}, scratch / "s3.log") as store,
        fake_trainer(plane, stack.env, scratch, HOSTS) as trainer,
    ):
        yield TrainStep(plane, stack.env, PROFILE, scratch), trainer, store


def test_the_train_step_with_workers_runs_a_trainjob_and_passes_its_model_on(
    training: tuple[TrainStep, FakeTrainer, Store], plane: ControlPlane, stack: PulumiProject
) -> None:
    step, trainer, store = training
    result = step.run({"workers": WORKERS, "epochs": 3})
    assert result.returncode == 0, result.log
    assert trainer.errors == []
    name = job_name(result.model_uri)
    assert trainer.taken == [name]
    # Created by the step as the profile's runner (default-editor, the release's roles),
    # in the kind the API server serves, every field kept by the CRD's schema.
    job = plane.kubectl_json(
        "get", "trainjobs.trainer.kubeflow.org", name, "-n", PROFILE, env=stack.env
    )
    spec = WorkerSpec(
        dataset=f"{result.dataset_uri}-shards-{WORKERS}",
        out=result.model_uri,
        version=1,
        config=TrainConfig(epochs=3),
    )
    request = JobRequest(name, PROFILE, IMAGE, WORKERS, spec, "http://seaweedfs.kubeflow:9000")
    assert_contained(job_manifest(TRAINJOB, request)["spec"], job["spec"])
    assert [c["type"] for c in job["status"]["conditions"]] == ["Complete"]
    # Its progress and end in the step's log (the run's log in the KFP UI).
    assert f"TrainJob {PROFILE}/{name} created" in result.log
    assert f"TrainJob {name}: Complete" in result.log
    assert "model version 1 " in result.log
    # The chief's export, passed on as the step's output Model, serves raw rows.
    rows = predict_rows(
        result.model_path / "1", [{"age": 30.0, "income (k)": 80.0, "city": "paris"}]
    )
    assert rows[0]["label"] in ("yes", "no")
    (model,) = result.executor_output["artifacts"]["model"]["artifacts"]
    assert model["metadata"]["workers"] == WORKERS
    listing = store.listing()
    dataset_key = result.dataset_uri.removeprefix("minio://mlpipeline/")
    shards = [k for k in listing["keys"] if k.startswith(f"{dataset_key}-shards-{WORKERS}/")]
    assert len(shards) == 2 + 3 * WORKERS  # schema, statistics, and each split's shards
    model_key = result.model_uri.removeprefix("minio://mlpipeline/")
    assert f"{model_key}/1/saved_model.pb" in listing["keys"]
    assert listing["denied"] == []


def test_a_failed_trainjob_fails_the_step_with_its_reason(
    training: tuple[TrainStep, FakeTrainer, Store],
) -> None:
    step, trainer, _ = training
    trainer.outcome = "fail"
    result = step.run({"workers": WORKERS, "epochs": 3})
    name = job_name(result.model_uri)
    assert result.returncode != 0
    assert f"TrainJob {PROFILE}/{name} failed: FailedJobs: jobset failed" in result.log
    assert not (result.model_path / "1").exists()
    assert trainer.errors == []


def test_more_workers_than_the_stack_allows_fail_the_step_before_any_job(
    training: tuple[TrainStep, FakeTrainer, Store],
) -> None:
    step, trainer, _ = training
    taken = list(trainer.taken)
    result = step.run({"workers": WORKERS + 1, "epochs": 3})
    assert result.returncode != 0
    limit = f"kfstack:training.maxWorkers: {WORKERS}, on ClusterTrainingRuntime {RUNTIME}"
    assert f"workers={WORKERS + 1} is more than the stack allows ({limit})" in result.log
    assert trainer.taken == taken  # no job


def test_a_tfjob_of_v1_10_passes_the_api_server_with_that_release_s_crd(
    plane: ControlPlane, stack: PulumiProject, tmp_path: Path
) -> None:
    """The other job kind: v1.10.2's TFJob CRD in this API server, a TFJob checked by it."""
    objects = render_component("v1.10.2", "training-operator", tmp_path / "build")
    (crd,) = [o for o in objects if o["metadata"]["name"] == f"{TFJOB.plural}.{TFJOB.group}"]
    check(
        plane.exec(["kubectl", "create", "-f", "-"], env=stack.env, input=json.dumps(crd)),
        "create the TFJob CRD",
    )
    try:
        # `kubectl wait` errors while the new CRD has no status yet; read it until Established
        # (a bound on waiting, not on speed)
        deadline = time.monotonic() + 120
        while not _established(plane, stack, crd["metadata"]["name"]):
            assert time.monotonic() < deadline, "the TFJob CRD never became Established"
            time.sleep(1)
        spec = WorkerSpec(dataset="s3://mlpipeline/d", out="s3://mlpipeline/m", version=1)
        request = JobRequest("train-tfjob", PROFILE, IMAGE, WORKERS, spec, "http://minio:9000")
        manifest = job_manifest(TFJOB, request)
        created = check(
            plane.exec(
                ["kubectl", "create", "--dry-run=server", "-o", "json", "-f", "-"],
                env=stack.env,
                input=json.dumps(manifest),
            ),
            "TFJob (server dry run)",
        )
        assert_contained(manifest["spec"], json.loads(created.stdout)["spec"])
    finally:
        plane.kubectl("delete", "crd", crd["metadata"]["name"], "--wait=true", env=stack.env)


def assert_contained(sent: Any, stored: Any, where: str = "spec") -> None:
    """Every field sent is stored with its value (the API server pruned none)."""
    if isinstance(sent, dict):
        assert isinstance(stored, dict), where
        for key, value in sent.items():
            assert key in stored, f"{where}.{key} was dropped by the API server"
            assert_contained(value, stored[key], f"{where}.{key}")
    elif isinstance(sent, list):
        assert isinstance(stored, list) and len(stored) == len(sent), where
        for i, (one, other) in enumerate(zip(sent, stored, strict=True)):
            assert_contained(one, other, f"{where}[{i}]")
    else:
        assert sent == stored, where


@pytest.mark.usefixtures("registry")  # removing serving archives its registry entry
def test_protected_objects_refuse_destroy_in_a_prod_like_config(
    stack: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path
) -> None:
    config = _config(plane, kubeflow_manifests, protect_data=True)
    stack.write_stack(STACK, config)
    with fake_controllers(plane, stack.env):
        check(stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK), "pulumi up (protect)")
    result = stack.pulumi("destroy", "--yes", "--skip-preview", "-s", STACK)
    assert result.returncode != 0
    assert "protected" in (result.stdout + result.stderr).lower()
    stack.write_stack(STACK, _config(plane, kubeflow_manifests))
    with fake_controllers(plane, stack.env):
        check(stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK), "pulumi up (unprotect)")


@pytest.mark.usefixtures("registry")
def test_destroy_leaves_none_of_the_stacks_objects(
    stack: PulumiProject, plane: ControlPlane
) -> None:
    plan = build_plan(kubeflow_settings_from_stack_file(_stack_file(stack)))
    check(stack.pulumi("destroy", "--yes", "--skip-preview", "-s", STACK), "pulumi destroy")
    # A profile's namespace is not the stack's: the garbage collector deletes it after its
    # Profile, as in a real cluster, so give it time (a bound on waiting, not on speed).
    namespaces = _namespaces(plane, stack)
    deadline = time.monotonic() + 300
    while namespaces - SYSTEM_NAMESPACES and time.monotonic() < deadline:
        time.sleep(2)
        namespaces = _namespaces(plane, stack)
    assert namespaces <= SYSTEM_NAMESPACES
    # The namespaced ones went with their namespaces (checked above).
    cluster_scoped = [o.key for o in plan.objects if not o.key.namespace]
    left = {k: n for k, n in objects_present(plane, stack.env, cluster_scoped).items() if n}
    assert left == {}


def _established(plane: ControlPlane, stack: PulumiProject, crd: str) -> bool:
    found = plane.kubectl_json("get", "crd", crd, env=stack.env)
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def _config(
    plane: ControlPlane, manifests: Path, users: Sequence[str] = (USER,), **options: Any
) -> dict[str, Any]:
    """The engine stack's config: its users (one), WORKERS."""
    return engine_stack_config(plane, manifests, users=users, max_workers=WORKERS, **options)


def _namespaces(plane: ControlPlane, stack: PulumiProject) -> set[str]:
    items = plane.kubectl_json("get", "namespaces", env=stack.env)["items"]
    return {ns["metadata"]["name"] for ns in items}


def _stack_file(project: PulumiProject) -> Path:
    return project.root / "stacks" / f"Pulumi.{STACK}.yaml"
