"""A `pulumi up` killed, or cut off from its API server, converges with the shipped settings.

With pulumi.env (the state written once, when a command ends), a `pulumi up` killed with
SIGKILL leaves the state it started from and its lock. `pulumi cancel` removes the lock and
the next `pulumi up` applies every object again: server-side apply updates an object that
exists, so nothing is duplicated and nothing is lost. The tests kill the whole session of
`pulumi up` (the CLI, the language host and the provider, as a dying machine or a cancelled
CI job would; Pulumi starts its plugins in process groups of their own, so killing the CLI
alone leaves them running) at a quarter, half and three quarters of the plan's objects,
one run after the other on the same stack; then the API server is stopped for 30 s in the
middle of an `up` of a fresh install. Each time the next `up` must converge, every object of
the plan must exist exactly once (in the cluster and in the state), `pulumi preview
--expect-no-changes` must pass and `pulumi destroy` must leave no object of the plan
behind. The tests run in file order and share the stack.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.config import kubeflow_settings_from_stack_file
from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import InstallPlan
from tests.engine.fakes import fake_controllers
from tests.engine.harness import (
    ControlPlane,
    PulumiProject,
    check,
    init_engine_stack,
    kill_session,
    objects_present,
)

pytestmark = pytest.mark.engine

STACK = "interrupted"
USER = "user@example.com"
#: A line of `pulumi up --non-interactive` that reports one resource created.
CREATED = re.compile(r"^\s*\+\s+\S+\s+\S+\s+created\b")


@pytest.fixture(scope="module")
def stack(project: PulumiProject, plane: ControlPlane, kubeflow_manifests: Path) -> PulumiProject:
    """The stack, initialised with every secret set (nothing created yet)."""
    return init_engine_stack(project, plane, kubeflow_manifests, STACK, [USER])


@pytest.fixture(scope="module")
def plan(stack: PulumiProject) -> InstallPlan:
    """The plan of the stack: the objects that must each exist exactly once."""
    return build_plan(
        kubeflow_settings_from_stack_file(stack.root / "stacks" / f"Pulumi.{STACK}.yaml")
    )


def _up_killed_after(stack: PulumiProject, created: int) -> int:
    """Start `pulumi up`; SIGKILL its session once it reported `created` resources created."""
    proc = stack.spawn("up", "--yes", "--skip-preview", "-s", STACK)
    assert proc.stdout is not None
    seen, killed = 0, []
    for line in proc.stdout:
        if CREATED.search(line):
            seen += 1
            if seen >= created:
                killed = kill_session(proc.pid)
                break
    proc.stdout.read()
    proc.wait(timeout=60)
    assert seen >= created, f"pulumi up ended (rc {proc.returncode}) after {seen} creates"
    assert len(killed) >= 3, killed  # the CLI, the language host and the provider at least
    return seen


def _converged(stack: PulumiProject, plane: ControlPlane, plan: InstallPlan) -> None:
    """Every object once in the cluster and in the state; no pending operation; no change."""
    keys = [o.key for o in plan.objects]
    counts = objects_present(plane, stack.env, keys)
    assert {k: n for k, n in counts.items() if n != 1} == {}
    state = json.loads(check(stack.pulumi("stack", "export", "-s", STACK), "export").stdout)
    deployment = state["deployment"]
    assert not deployment.get("pending_operations"), deployment["pending_operations"]
    registered = [
        r["urn"].split("::")[-1]
        for r in deployment["resources"]
        if r["type"].startswith("kubernetes:") and r.get("custom") and "$" in r["urn"]
    ]
    wanted = {k.resource_name for k in keys}
    assert sorted(n for n in registered if n in wanted) == sorted(wanted)
    check(stack.pulumi("preview", "--expect-no-changes", "-s", STACK), "preview after converging")


def _destroyed(stack: PulumiProject, plane: ControlPlane, plan: InstallPlan) -> None:
    check(stack.pulumi("destroy", "--yes", "--skip-preview", "-s", STACK), "pulumi destroy")
    cluster_scoped = [o.key for o in plan.objects if not o.key.namespace]
    left = {k: n for k, n in objects_present(plane, stack.env, cluster_scoped).items() if n}
    assert left == {}


def test_up_killed_at_a_quarter_half_and_three_quarters_then_converges(
    stack: PulumiProject, plane: ControlPlane, plan: InstallPlan
) -> None:
    total = len(plan.objects)
    with fake_controllers(plane, stack.env):
        for share in (0.25, 0.5, 0.75):
            _up_killed_after(stack, round(share * total))
            refused = stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK)
            assert refused.returncode != 0
            assert "locked" in refused.stdout + refused.stderr
            check(stack.pulumi("cancel", "--yes", "-s", STACK), "pulumi cancel (the kill's lock)")
        check(stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK), "pulumi up after kills")
        _converged(stack, plane, plan)
    _destroyed(stack, plane, plan)


def test_up_with_the_api_server_gone_for_30s_then_converges(
    stack: PulumiProject, plane: ControlPlane, plan: InstallPlan, path: str
) -> None:
    half = len(plan.objects) // 2
    with fake_controllers(plane, stack.env):
        proc = stack.spawn("up", "--yes", "--skip-preview", "-s", STACK)
        assert proc.stdout is not None
        seen, outage = 0, None
        for line in proc.stdout:
            if CREATED.search(line):
                seen += 1
                if seen == half:
                    outage = plane.restart_apiserver(30, path=path)
        proc.wait(timeout=60)
        assert outage is not None, f"pulumi up ended after {seen} creates, before the outage"
        restarted = outage.communicate(timeout=300)[0]
        assert outage.returncode == 0, restarted
        # The interrupted `up` may fail or finish; the next one converges either way.
        check(stack.pulumi("up", "--yes", "--skip-preview", "-s", STACK), "pulumi up after outage")
        _converged(stack, plane, plan)
    _destroyed(stack, plane, plan)
