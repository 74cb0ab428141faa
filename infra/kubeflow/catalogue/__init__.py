"""The catalogue: which releases kfstack knows, and which components a plan holds.

`tables/` holds the data (the release table and each release's component table, TOML),
`load.py` reads it, `releases.py` looks a release up, `example.py` reads the release's own
component list, `detect.py` tells which release a source holds, and `select.py` chooses
and closes the components of a plan. The stage's entry is `select_plan`: the release the
source holds (checked against the configured one) and the plan's components.
"""

from infra.kubeflow.catalogue.component import OPTION_ATTRIBUTES, Component, KubeflowRelease
from infra.kubeflow.catalogue.detect import detect_release, readme_versions, resolve_release
from infra.kubeflow.catalogue.example import example_entries
from infra.kubeflow.catalogue.releases import (
    RELEASE_NAMES,
    RELEASES,
    SUPPORTED_KUBERNETES,
    TRAINING_COMPONENTS,
    TRAINING_RELEASES,
    find_kubeflow_release,
)
from infra.kubeflow.catalogue.select import (
    FULL,
    Selection,
    declared_edges,
    requested_names,
    select_components,
    select_plan,
)

__all__ = [
    "FULL",
    "OPTION_ATTRIBUTES",
    "RELEASES",
    "RELEASE_NAMES",
    "SUPPORTED_KUBERNETES",
    "TRAINING_COMPONENTS",
    "TRAINING_RELEASES",
    "Component",
    "KubeflowRelease",
    "Selection",
    "declared_edges",
    "detect_release",
    "example_entries",
    "find_kubeflow_release",
    "readme_versions",
    "requested_names",
    "resolve_release",
    "select_components",
    "select_plan",
]
