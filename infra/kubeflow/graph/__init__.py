"""The install graph: edge rules, cycle check, waves, critical path.

The stage's entry is `install_graph`: the edges, waves and critical path of the objects.
"""

from infra.kubeflow.graph.order import (
    CycleError,
    Edge,
    InstallGraph,
    critical_path,
    explain_edges,
    infer_edges,
    install_graph,
    install_waves,
)

__all__ = [
    "CycleError",
    "Edge",
    "InstallGraph",
    "critical_path",
    "explain_edges",
    "infer_edges",
    "install_graph",
    "install_waves",
]
