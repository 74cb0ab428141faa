"""`kfstack plan -s <env>`: the platform's install plan, computed without Pulumi or a cluster.

Reads `stacks/Pulumi.<env>.yaml`, runs the pure core (`build_plan`) and prints the
components, object counts, install waves, stack-added objects, secrets and findings.
`--out DIR` writes every final object as one YAML file. `--against BASELINE` (a
release, a plan folder, a manifests folder or a git ref) prints the object-level
difference from that baseline to the stack's plan (`--out` adds `diff.json`).
Exit status: 0 on success, 1 when the plan has error findings (or a dependency
cycle), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.kubeflow import InstallPlan, KubeflowSettings, ManifestSource, ObjectKey, PlanDiff

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
REPO = Path(__file__).resolve().parents[1]


def register(subparsers: Any) -> None:
    """Add the `plan` subcommand to the `kfstack` parser."""
    parser = subparsers.add_parser(
        "plan",
        help="compute the Kubeflow install plan of a stack (no Pulumi, no cluster)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-s", "--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml"
    )
    parser.add_argument("--source", type=Path, help="local manifests path (overrides the stack's)")
    parser.add_argument("--out", type=Path, help="write each final object as YAML into this dir")
    parser.add_argument(
        "--against",
        metavar="BASELINE",
        help="preview the upgrade from BASELINE: a release, a plan folder or a git ref",
    )
    parser.add_argument("--no-cache", action="store_true", help="render again, ignore the caches")
    parser.add_argument(
        "--stack-dir", type=Path, help="folder of the stack files (default: stacks/)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run `kfstack plan` for parsed `args`; return the exit status."""
    from infra.kubeflow import CycleError, PlanError, build_plan, diff_plans

    out = Console()
    err = Console(stderr=True, soft_wrap=True)  # an error is one line, also when piped
    try:
        if args.out is not None:
            check_out_dir(args.out)
        settings = load_settings(args.stack, stack_dir=args.stack_dir, source=args.source)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        return EXIT_BAD_INPUT
    try:
        with err.status("planning ...") as status:

            def progress(message: str) -> None:
                if "failed" in message:
                    err.print(message, highlight=False, markup=False)
                status.update(message)

            plan = build_plan(settings, use_cache=not args.no_cache, progress=progress)
            diff = None
            if args.against:
                from infra.plan_against import baseline

                old_release, old = baseline(
                    args.against, settings, use_cache=not args.no_cache, progress=progress
                )
                diff = diff_plans(
                    old, plan.objects, old_release=old_release, new_release=plan.release
                )
    except CycleError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_FINDINGS
    except PlanError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_BAD_INPUT
    return _report(out, plan, diff, args.out, protect_data=settings.protect_data)


def _report(
    console: Console,
    plan: InstallPlan,
    diff: PlanDiff | None,
    out: Path | None,
    *,
    protect_data: bool,
) -> int:
    from infra.plan_against import print_diff, write_diff

    print_plan(console, plan)
    print_protection(console, plan, protect_data=protect_data)
    if diff is not None:
        print_diff(console, diff)
    if out is not None:
        write_objects(plan, out)
        console.print(f"wrote {len(plan.objects)} objects to {out}")
        if diff is not None:
            write_diff(diff, out)
            console.print(f"wrote {out / 'diff.json'}")
    return EXIT_FINDINGS if plan.errors else EXIT_OK


def check_out_dir(out: Path) -> None:
    """Fail before any rendering when `--out` is a file or cannot be written.

    Raises:
        NotADirectoryError: `out` exists and is not a folder.
        PermissionError: `out`, or the folder it would be made in, is not writable.

    """
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out}: is a file; give a folder to write the plan to")
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise NotADirectoryError(f"--out {out}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"--out {out}: {probe} is not writable")


def load_settings(
    stack: str, *, stack_dir: Path | None = None, source: Path | None = None
) -> KubeflowSettings:
    """Return the KubeflowSettings of `stacks/Pulumi.<stack>.yaml`, `source` overriding.

    Raises:
        FileNotFoundError: no such stack file (the message lists the stacks found).
        ValueError: the stack config is invalid (infra.config's ConfigError).

    """
    from infra.config import kubeflow_settings_from_stack_file

    folder = stack_dir if stack_dir is not None else _default_stack_dir()
    path = folder / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in folder.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(
            f"stack file {path} not found; stacks in {folder}: {', '.join(known) or 'none'}"
        )
    settings = kubeflow_settings_from_stack_file(path)
    if source is not None:
        settings = replace(settings, source=ManifestSource(path=source.expanduser().resolve()))
    return settings


def _default_stack_dir() -> Path:
    local = Path.cwd() / "stacks"
    return local if local.is_dir() else REPO / "stacks"


def print_plan(console: Console, plan: InstallPlan) -> None:
    """Print the plan: components, counts by kind, waves, stack objects, secrets, findings."""
    console.print(
        f"[bold]Kubeflow {plan.release}[/bold] (the release the source holds) "
        f"source digest {plan.source_digest}"
    )
    console.print(f"components ({len(plan.components)}): {', '.join(plan.components)}")
    if plan.unknown_components:
        console.print(
            f"[yellow]planned as rendered, not in the release's table "
            f"({len(plan.unknown_components)}): {', '.join(plan.unknown_components)}[/yellow]",
            highlight=False,
        )
    if "test_mode" in plan.meta:
        console.print(f"[yellow]test mode {plan.meta['test_mode']}[/yellow]", highlight=False)
    kinds = Counter(o.key.kind for o in plan.objects)
    table = Table(title=f"{len(plan.objects)} objects by kind")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(kind, str(count))
    console.print(table)
    console.print(
        f"{len(plan.waves)} install waves; critical path ({len(plan.critical_path)} objects):"
    )
    for key in plan.critical_path:
        console.print(f"  {key}", highlight=False)
    stack_objects = [o for o in plan.objects if o.origin == "stack"]
    console.print(f"added by the stack ({len(stack_objects)}):")
    for obj in stack_objects:
        console.print(f"  {obj.key}: {obj.reason}", highlight=False)
    console.print(f"secrets ({len(plan.secrets)}), from stack config or generated:")
    for spec in plan.secrets:
        console.print(f"  {spec.name} <- {spec.config_key}: {spec.description}", highlight=False)
    console.print(f"findings ({len(plan.findings)}, {len(plan.errors)} errors):")
    for finding in plan.findings:
        style = _SEVERITY_STYLES[finding.severity]
        # Escaped: a finding's text holds brackets ("[error]", "rules[0]", "['*']").
        console.print(f"  [{style}]{escape(str(finding))}[/{style}]", highlight=False)


_SEVERITY_STYLES = {"error": "red", "warning": "yellow", "allowed": "dim"}


def print_protection(console: Console, plan: InstallPlan, *, protect_data: bool) -> None:
    """Print what `protectData` protects and retains, and why (or that it is off)."""
    reasons = _protected(plan)
    state = "protected and retained" if protect_data else "NOT protected (protectData: false)"
    console.print(f"data ({len(reasons)} objects, {state}):")
    for key, why in sorted(reasons.items()):
        console.print(f"  {key}: {why}", highlight=False)


def _protected(plan: InstallPlan) -> dict[ObjectKey, str]:
    from infra.kubeflow import protected_objects

    return protected_objects(plan.objects)


def object_file_name(key: ObjectKey) -> str:
    """Return the file name of an object in `--out`: unique and stable for its key."""
    safe = key.resource_name.replace(":", "__").replace("/", "_")
    return f"{safe}.yaml"


def write_objects(plan: InstallPlan, out: Path) -> None:
    """Write every object of `plan` to `out/objects/`, plus `out/plan.json` (edges, waves)."""
    objects_dir = out / "objects"
    if objects_dir.exists():
        shutil.rmtree(objects_dir)
    objects_dir.mkdir(parents=True)
    for obj in plan.objects:
        text = yaml.dump(obj.manifest, Dumper=yaml.CSafeDumper, sort_keys=True)
        (objects_dir / object_file_name(obj.key)).write_text(text)
    summary = {
        "release": plan.release,
        "components": list(plan.components),
        "unknown_components": list(plan.unknown_components),
        "source_digest": plan.source_digest,
        "objects": [
            {
                "key": str(o.key),
                "file": object_file_name(o.key),
                "component": o.component,
                "origin": o.origin,
                "holds_data": o.holds_data,
                "reason": o.reason,
            }
            for o in plan.objects
        ],
        "edges": {str(k): sorted(str(d) for d in v) for k, v in sorted(plan.edges.items())},
        "waves": [[str(k) for k in wave] for wave in plan.waves],
        "critical_path": [str(k) for k in plan.critical_path],
        "secrets": [vars(s) for s in plan.secrets],
        "findings": [str(f) for f in plan.findings],
        "data": {str(k): why for k, why in sorted(_protected(plan).items())},
    }
    (out / "plan.json").write_text(json.dumps(summary, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run `kfstack plan` alone (`python -m infra.plan -s dev`)."""
    parser = argparse.ArgumentParser(prog="kfstack")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["plan", *(argv if argv is not None else sys.argv[1:])])
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
