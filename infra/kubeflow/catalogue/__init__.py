"""The catalogue: which components a release has, what they need, and how they are chosen."""

from infra.kubeflow.catalogue.component import OPTION_ATTRIBUTES, Component, ReleasePaths
from infra.kubeflow.catalogue.select import (
    CATALOGUE,
    PRESETS,
    RELEASES,
    check_release,
    close_needs,
    declared_edges,
    requested_names,
    select_components,
)

__all__ = [
    "CATALOGUE",
    "OPTION_ATTRIBUTES",
    "PRESETS",
    "RELEASES",
    "Component",
    "ReleasePaths",
    "check_release",
    "close_needs",
    "declared_edges",
    "requested_names",
    "select_components",
]
