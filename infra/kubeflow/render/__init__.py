"""Render: the release's source (a folder or a pinned git ref) through the pinned kustomize."""

from infra.kubeflow.render.kustomize import (
    Kubectl,
    Rendered,
    kubectl_candidates,
    parse_documents,
    pinned_kubectl,
    render_components,
)
from infra.kubeflow.render.source import manifests_root, resolve_source, source_digest

__all__ = [
    "Kubectl",
    "Rendered",
    "kubectl_candidates",
    "manifests_root",
    "parse_documents",
    "pinned_kubectl",
    "render_components",
    "resolve_source",
    "source_digest",
]
