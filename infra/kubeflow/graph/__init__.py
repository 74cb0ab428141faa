"""The install graph: edge rules, readiness annotations, cycle check, waves, critical path."""

from infra.kubeflow.graph.order import (
    CycleError,
    Edge,
    critical_path,
    explain_edges,
    infer_edges,
    install_waves,
)
from infra.kubeflow.graph.readiness import add_readiness_annotations

__all__ = [
    "CycleError",
    "Edge",
    "add_readiness_annotations",
    "critical_path",
    "explain_edges",
    "infer_edges",
    "install_waves",
]
