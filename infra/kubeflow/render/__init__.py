"""Render: the release's source (a folder or a pinned git ref) through the pinned kustomize.

Two steps, as the plan needs the source before it knows what to render: `open_source`
(the manifests root and its digest; the catalogue reads the root) and
`render_components` (the chosen components through kustomize, cached).
"""

from infra.kubeflow.render.kustomize import (
    Kubectl,
    Rendered,
    kubectl_candidates,
    parse_documents,
    pinned_kubectl,
    render_components,
)
from infra.kubeflow.render.source import (
    Source,
    manifests_root,
    open_source,
    resolve_source,
    source_digest,
)

__all__ = [
    "Kubectl",
    "Rendered",
    "Source",
    "kubectl_candidates",
    "manifests_root",
    "open_source",
    "parse_documents",
    "pinned_kubectl",
    "render_components",
    "resolve_source",
    "source_digest",
]
