"""Install time of ml-core: `pulumi up` (the plan's order) vs the release's retry loop.

Each run starts a fresh control plane (scripts/engine-cluster, kwok nodes, its own network
namespace), then either
  - pulumi: `pulumi up` of the engine stack (existing cluster, ml-core, test mode kwok), or
  - kubectl: the same final objects (the plan's manifests, secrets filled in) applied with
    `kubectl apply --server-side --force-conflicts` in the release's loop
    (`while ! kubectl apply ...; do sleep 20; done`), then `kubectl wait` for every Deployment
    to be Available (pulumi up waits for readiness too).
The fake cert-manager and profile controller (tests/engine/fakes.py) run in both. Reports
wall time and failed applies.

Needs root and `make engine`. Usage: python bench/bench_install.py [--runs 3] [--sleep 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from infra.config import kubeflow_settings_from_stack_file  # noqa: E402
from infra.kubeflow import DERIVED_SECRETS  # noqa: E402
from infra.kubeflow.core import build_plan  # noqa: E402
from infra.kubeflow.tokens import substitute  # noqa: E402
from tests.conftest import KUBEFLOW_2603  # noqa: E402
from tests.engine.fakes import fake_controllers  # noqa: E402
from tests.engine.harness import (  # noqa: E402
    ControlPlane,
    PulumiProject,
    check,
    control_plane,
    engine_path,
    engine_stack_config,
    missing_engine,
    secret_values,
)

STACK = "bench"
USER = "user@example.com"


def rendered_objects(stack_file: Path) -> str:
    """The plan's final manifests as one YAML stream, with the provided secrets filled in."""
    plan = build_plan(kubeflow_settings_from_stack_file(stack_file))
    provided = secret_values()
    values = {}
    for spec in plan.secrets:
        derive = DERIVED_SECRETS.get(spec.name)
        value = provided[spec.config_key]
        values[spec.name] = derive(value, provided["installationSalt"]) if derive else value
    manifests = [substitute(dict(o.manifest), values) for o in plan.objects]
    return yaml.safe_dump_all(manifests, sort_keys=True)


def run_pulumi(plane: ControlPlane, work: Path, path: str) -> dict[str, float]:
    """`pulumi up` of ml-core; failed applies: 0 when it succeeds (it never retries)."""
    project = PulumiProject(root=work, plane=plane, path=path)
    project.write_stack(STACK, engine_stack_config(plane, KUBEFLOW_2603, users=[USER]))
    project.init_stack(STACK)
    project.set_secrets(STACK, secret_values())
    with fake_controllers(plane, project.env):
        t0 = time.monotonic()
        result = project.pulumi("up", "--yes", "--skip-preview", "-s", STACK)
        seconds = time.monotonic() - t0
    check(result, "pulumi up")
    return {"seconds": seconds, "failed_applies": 0}


def run_kubectl(plane: ControlPlane, work: Path, path: str, *, sleep: float) -> dict[str, float]:
    """The release's loop: apply everything until one apply succeeds, then wait for ready."""
    project = PulumiProject(root=work, plane=plane, path=path)  # for its env only
    stack_file = project.write_stack(STACK, engine_stack_config(plane, KUBEFLOW_2603, users=[USER]))
    stream = rendered_objects(stack_file)
    failed = 0
    with fake_controllers(plane, project.env):
        t0 = time.monotonic()
        while True:
            result = plane.exec(
                ["kubectl", "apply", "--server-side", "--force-conflicts", "-f", "-"],
                env=project.env,
                input=stream,
            )
            if result.returncode == 0:
                break
            failed += 1
            if failed > 60:
                raise RuntimeError(f"kubectl apply still failing: {result.stderr[-2000:]}")
            time.sleep(sleep)
        applied = time.monotonic() - t0
        wait = plane.kubectl(
            "wait",
            "--for=condition=Available",
            "deployments",
            "--all",
            "-A",
            "--timeout=900s",
            env=project.env,
        )
        seconds = time.monotonic() - t0
    check(wait, "kubectl wait")
    return {"seconds": seconds, "applied_seconds": applied, "failed_applies": failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=20.0, help="the release loop's sleep")
    parser.add_argument("--only", choices=["pulumi", "kubectl"], default=None)
    args = parser.parse_args(argv)
    reason = missing_engine()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    path = engine_path()
    methods: dict[str, Callable[[ControlPlane, Path, str], dict[str, float]]] = {
        "pulumi": run_pulumi,
        "kubectl": lambda plane, work, p: run_kubectl(plane, work, p, sleep=args.sleep),
    }
    results: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    for run in range(args.runs):
        for method, fn in methods.items():
            if args.only and method != args.only:
                continue
            with tempfile.TemporaryDirectory(prefix="kfstack-bench-") as tmp:
                name = f"kfstack-bench-{uuid.uuid4().hex[:6]}"
                with control_plane(name, Path(tmp) / "plane", path=path) as plane:
                    figures = fn(plane, Path(tmp) / "project", path)
            results[method].append(figures)
            print(f"run {run + 1} {method}: {json.dumps(figures)}", flush=True)
    for method, runs in results.items():
        if runs:
            times = [r["seconds"] for r in runs]
            fails = [r["failed_applies"] for r in runs]
            print(
                f"{method}: wall {statistics.median(times):.0f}s median "
                f"(min {min(times):.0f}, max {max(times):.0f}) over {len(runs)} runs; "
                f"failed applies {fails}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
