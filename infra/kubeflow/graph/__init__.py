"""The install graph: edge rules, cycle check, waves, critical path."""

from infra.kubeflow.graph.order import (
    CycleError,
    Edge,
    critical_path,
    explain_edges,
    infer_edges,
    install_waves,
)

__all__ = [
    "CycleError",
    "Edge",
    "critical_path",
    "explain_edges",
    "infer_edges",
    "install_waves",
]
