"""`kfstack plan --against`: the baseline an upgrade preview compares the stack's plan to.

The baseline is, in this order of lookup: a folder written by `kfstack plan --out`
(its `plan.json`), a manifests folder, a release of the release table (the folder of
that release beside the stack's local source, else its tag of the stack's git URL), or
any other git ref of the stack's manifests repository. Everything but the plan folder
is planned with the stack's own settings, so only the release differs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from infra.config_model import GitSource
from infra.kubeflow import (
    CatalogueError,
    KubeflowRelease,
    KubeflowSettings,
    ManifestSource,
    PlanDiff,
    PlannedObject,
    build_plan,
    find_kubeflow_release,
    load_plan_dir,
)

MAX_LISTED = 25


def baseline(
    value: str,
    settings: KubeflowSettings,
    *,
    use_cache: bool,
    progress: Callable[[str], None],
) -> tuple[str, tuple[PlannedObject, ...]]:
    """Return (Kubeflow release, objects) of the `--against` baseline `value`.

    Raises:
        PlanError: the baseline cannot be read or planned.

    """
    path = Path(value).expanduser()
    if (path / "plan.json").is_file():
        return load_plan_dir(path)
    if path.is_dir():
        source, kubeflow_release = ManifestSource(path=path.resolve()), None
    else:
        try:
            known: KubeflowRelease | None = find_kubeflow_release(value)
        except CatalogueError:
            known = None
        git_url = settings.source.git_url or GitSource(ref=value).url
        if known is not None:
            kubeflow_release = known.name
            source = _sibling(settings.source, known) or ManifestSource(
                git_url=git_url, git_ref=known.git_tag
            )
        else:
            source, kubeflow_release = ManifestSource(git_url=git_url, git_ref=value), None
    plan = build_plan(
        replace(settings, source=source, release=kubeflow_release),
        use_cache=use_cache,
        progress=lambda m: progress(f"baseline {m}"),
    )
    return plan.release, plan.objects


def _sibling(source: ManifestSource, kubeflow_release: KubeflowRelease) -> ManifestSource | None:
    """The release's folder beside a local source (`<dir>/<release>/manifests`), if any."""
    if source.path is None:
        return None
    here = Path(source.path).expanduser().resolve()
    here = here if here.name != "manifests" else here.parent
    for candidate in (
        here.parent / kubeflow_release.name / "manifests",
        here.parent / kubeflow_release.name,
    ):
        if (candidate / "example" / "kustomization.yaml").is_file():
            return ManifestSource(path=candidate)
    return None


def print_diff(console: Console, diff: PlanDiff) -> None:
    """Print the diff: counts, then added, removed and changed objects, CRDs, data at risk."""
    summary = diff.to_json()["summary"]
    console.print(
        f"[bold]against {diff.old_release or '?'} -> {diff.new_release}[/bold]: "
        + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary.items()),
        highlight=False,
    )
    for title, keys in (("added", diff.added), ("removed", diff.removed)):
        console.print(f"{title} ({len(keys)}):")
        _listed(console, [str(k) for k in keys])
    console.print(f"changed ({len(diff.changed)}):")
    lines = []
    for change in diff.changed:
        lines.append(f"{change.key}")
        lines.extend(f"    {field}" for field in change.fields)
    _listed(console, lines, limit=MAX_LISTED * 4)
    console.print(f"CRDs whose versions change ({len(diff.crd_versions)}):")
    for crd in diff.crd_versions:
        console.print(
            f"  {crd.key}: served {','.join(crd.old_served)} -> {','.join(crd.new_served)}, "
            f"storage {crd.old_storage} -> {crd.new_storage}",
            highlight=False,
        )
    console.print(
        f"objects holding data that would be removed or replaced ({len(diff.data_at_risk)}):"
    )
    for key, why in diff.data_at_risk:
        console.print(f"  [red]{key}: {why}[/red]", highlight=False, markup=True)


def _listed(console: Console, lines: list[str], limit: int = MAX_LISTED) -> None:
    for line in lines[:limit]:
        console.print(f"  {line}", highlight=False, markup=False)
    if len(lines) > limit:
        console.print(f"  ... and {len(lines) - limit} more (all of them in --out diff.json)")


def write_diff(diff: PlanDiff, out: Path) -> None:
    """Write the diff as `out/diff.json`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "diff.json").write_text(json.dumps(diff.to_json(), indent=2) + "\n")
