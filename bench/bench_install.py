"""Install time: `pulumi up` (the plan's order) vs the release's retry loop, as a user runs it.

By default `pulumi up` runs with the settings `make up` and CI use: the file backend and
kfstack's shipped Pulumi settings (pulumi.env: the state is written once per command).
`--checkpoints` is a labelled variant with Pulumi's own default instead (the whole state
rewritten after every step), what a bare `pulumi up` without pulumi.env does. `--preset`
picks ml-core (default) or full.

Each run starts a fresh control plane (scripts/engine-cluster, kwok nodes, its own network
namespace), then either
  - pulumi: `pulumi up` of the engine stack (existing cluster, the preset, test mode kwok),
    then, timed too, a second `pulumi up` with nothing changed, `pulumi preview
    --expect-no-changes` of the installed stack and `pulumi destroy`; or
  - kubectl: the same final objects (the plan's manifests, secrets filled in) applied with
    `kubectl apply --server-side --force-conflicts` in the release's loop
    (`while ! kubectl apply ...; do sleep 20; done`), then `kubectl wait` for every Deployment
    to be Available (pulumi up waits for readiness too).
The fake cert-manager and profile controller (tests/engine/fakes.py) run in both. Reports
wall time and failed applies; `--json OUT` writes
`{"checkpoints", "preset", "pulumi": {"runs_s", "median_s", ...}, "kubectl": {...}, "ratio"}`.

`--profile DIR` also logs each Pulumi command's calls and events (bench/install_profile.py
reads them: README "Where `pulumi up` spends its time").

Needs root and `make engine`. Usage:
  python bench/bench_install.py [--runs 3] [--preset ml-core|full] [--checkpoints]
                                [--sleep 20] [--json OUT] [--profile DIR]
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Setting:
    """What the benchmark measures: the preset, and whether the state is written per step."""

    preset: str
    checkpoints: bool

    def project(self, plane: ControlPlane, work: Path, path: str) -> PulumiProject:
        """The engine project with the stack written, in the user's environment or the variant's."""
        project = PulumiProject(root=work, plane=plane, path=path)  # pulumi.env's settings
        if self.checkpoints:
            # The variant: Pulumi's default, the whole state written after every step.
            project.env.pop("PULUMI_SKIP_CHECKPOINTS", None)
        config = engine_stack_config(plane, KUBEFLOW_2603, users=[USER])
        config["kfstack:kubeflow"]["preset"] = self.preset
        project.write_stack(STACK, config)
        return project


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


def _timed(project: PulumiProject, what: str, *args: str, profile: Path | None = None) -> float:
    """Run one Pulumi command; with `profile`, log its calls and events there (install_profile)."""
    extra: tuple[str, ...] = ()
    if profile is not None:
        name = what.replace(" ", "-")
        project.env["PULUMI_DEBUG_GRPC"] = str(profile / f"{name}.grpc.jsonl")
        project.env["PULUMI_DEBUG_COMMANDS"] = "true"  # enables --event-log
        extra = ("--event-log", str(profile / f"{name}.events.jsonl"))
    t0 = time.monotonic()
    check(project.pulumi(*args, *extra, "-s", STACK), what)
    return time.monotonic() - t0


def run_pulumi(
    setting: Setting, plane: ControlPlane, work: Path, path: str, profile: Path | None = None
) -> dict[str, float]:
    """`pulumi up`, then a no-change `up`, a preview and a destroy, each timed.

    Failed applies: 0 when `up` succeeds (it never retries).
    """
    project = setting.project(plane, work, path)
    project.init_stack(STACK)
    project.set_secrets(STACK, secret_values())
    with fake_controllers(plane, project.env):
        seconds = _timed(project, "up", "up", "--yes", "--skip-preview", profile=profile)
        state = sum(f.stat().st_size for f in (work / "state").rglob("*.json"))
        again = _timed(project, "second up", "up", "--yes", "--skip-preview", profile=profile)
        preview = _timed(project, "preview", "preview", "--expect-no-changes", profile=profile)
        destroy = _timed(project, "destroy", "destroy", "--yes", "--skip-preview", profile=profile)
    return {
        "seconds": seconds,
        "failed_applies": 0,
        "state_bytes": state,
        "second_up_seconds": again,
        "preview_seconds": preview,
        "destroy_seconds": destroy,
    }


def run_kubectl(
    setting: Setting, plane: ControlPlane, work: Path, path: str, *, sleep: float
) -> dict[str, float]:
    """The release's loop: apply everything until one apply succeeds, then wait for ready."""
    setting.project(plane, work, path)  # writes the stack file the plan is read from
    stream = rendered_objects(work / "stacks" / f"Pulumi.{STACK}.yaml")
    env = PulumiProject(root=work, plane=plane, path=path).env
    failed = 0
    with fake_controllers(plane, env):
        t0 = time.monotonic()
        while True:
            result = plane.exec(
                ["kubectl", "apply", "--server-side", "--force-conflicts", "-f", "-"],
                env=env,
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
            env=env,
        )
        seconds = time.monotonic() - t0
    check(wait, "kubectl wait")
    return {"seconds": seconds, "applied_seconds": applied, "failed_applies": failed}


def summary(setting: Setting, results: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """The JSON summary: runs and medians per method, and pulumi's median over kubectl's."""
    out: dict[str, Any] = {
        "checkpoints": "on" if setting.checkpoints else "off",
        "preset": setting.preset,
    }
    for method, runs in results.items():
        if not runs:
            continue
        times = [r["seconds"] for r in runs]
        entry: dict[str, Any] = {"runs_s": times, "median_s": statistics.median(times)}
        for extra in sorted(set(runs[0]) - {"seconds"}):
            entry[extra] = [r[extra] for r in runs]
        out[method] = entry
    if "pulumi" in out and "kubectl" in out:
        out["ratio"] = out["pulumi"]["median_s"] / out["kubectl"]["median_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=20.0, help="the release loop's sleep")
    parser.add_argument("--only", choices=["pulumi", "kubectl"], default=None)
    parser.add_argument("--preset", choices=["ml-core", "full"], default="ml-core")
    parser.add_argument(
        "--checkpoints",
        action="store_true",
        help="variant: Pulumi's default, the state written after every step (not what "
        "`make up` does; labelled in the output)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="log each Pulumi command's gRPC calls and events into this folder "
        "(PULUMI_DEBUG_GRPC, --event-log; read with bench/install_profile.py); slower",
    )
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    reason = missing_engine()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    path = engine_path()
    setting = Setting(preset=args.preset, checkpoints=args.checkpoints)
    methods: dict[str, Callable[[ControlPlane, Path, str], dict[str, float]]] = {
        "pulumi": lambda plane, work, p: run_pulumi(setting, plane, work, p, args.profile),
        "kubectl": lambda plane, work, p: run_kubectl(setting, plane, work, p, sleep=args.sleep),
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
    report = summary(setting, results)
    print(json.dumps(report, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
