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
from pathlib import Path

import pytest

from infra.config import kubeflow_settings_from_stack_file
from infra.kubeflow.core import build_plan
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
from tests.serving_fixtures import make_release, write_pipeline, write_release_file

pytestmark = pytest.mark.engine

STACK = "engine"
USER = "user@example.com"
SECOND_USER = "second@example.com"
SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


@pytest.fixture(scope="module")
def stack(project: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path) -> PulumiProject:
    """The engine stack, initialised with every secret set (no resource created yet)."""
    return init_engine_stack(project, plane, kubeflow_manifests, STACK, [USER])


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
    stack.write_stack(
        STACK, engine_stack_config(plane, kubeflow_manifests, users=[USER, SECOND_USER])
    )
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
        stack.write_stack(STACK, engine_stack_config(plane, kubeflow_manifests, users=[USER]))


@pytest.mark.usefixtures("registry")
def test_serving_with_storage_uri_creates_pipeline_and_inference_service(
    stack: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path, tmp_path: Path
) -> None:
    pipeline = write_pipeline(tmp_path / "pipeline.yaml")
    record = write_release_file(tmp_path / "release.json", make_release())  # the same each call
    config = engine_stack_config(plane, kubeflow_manifests, users=[USER])
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


@pytest.mark.usefixtures("registry")  # removing serving archives its registry entry
def test_protected_objects_refuse_destroy_in_a_prod_like_config(
    stack: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path
) -> None:
    config = engine_stack_config(plane, kubeflow_manifests, users=[USER], protect_data=True)
    stack.write_stack(STACK, config)
    with fake_controllers(plane, stack.env):
        check(stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK), "pulumi up (protect)")
    result = stack.pulumi("destroy", "--yes", "--skip-preview", "-s", STACK)
    assert result.returncode != 0
    assert "protected" in (result.stdout + result.stderr).lower()
    stack.write_stack(STACK, engine_stack_config(plane, kubeflow_manifests, users=[USER]))
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


def _namespaces(plane: ControlPlane, stack: PulumiProject) -> set[str]:
    items = plane.kubectl_json("get", "namespaces", env=stack.env)["items"]
    return {ns["metadata"]["name"] for ns in items}


def _stack_file(project: PulumiProject) -> Path:
    return project.root / "stacks" / f"Pulumi.{STACK}.yaml"
