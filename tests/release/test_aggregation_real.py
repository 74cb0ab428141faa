"""Every shared release: aggregated ClusterRoles and empty data maps left to the API server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.kubeflow.transforms.aggregation import is_aggregated_role
from infra.kubeflow.transforms.empty_data import DATA_FIELDS
from tests.release.conftest import FullPlan


@pytest.mark.parametrize("release", ["26.03", "v1.10.2"])
def test_no_aggregated_role_of_a_release_claims_rules(
    release_plans: Callable[[str], FullPlan], release: str
) -> None:
    objects = release_plans(release).plan.objects
    aggregated = [o for o in objects if is_aggregated_role(o)]
    assert {"kubeflow-admin", "kubeflow-edit", "kubeflow-view"} <= {o.key.name for o in aggregated}
    assert [o.key.name for o in aggregated if "rules" in o.manifest] == []


@pytest.mark.parametrize("release", ["26.03", "v1.10.2"])
def test_no_secret_or_config_map_of_a_release_sends_an_empty_map(
    release_plans: Callable[[str], FullPlan], release: str
) -> None:
    objects = release_plans(release).plan.objects
    empty = [
        (str(o.key), field)
        for o in objects
        if o.key.group == "" and o.key.kind in DATA_FIELDS
        for field in DATA_FIELDS[o.key.kind]
        if o.manifest.get(field) == {}
    ]
    assert empty == []
    # the one the engine tier found: 26.03's Trainer webhook Secret, rendered `data: {}`
    if release == "26.03":
        (trainer,) = [o for o in objects if o.key.name == "kubeflow-trainer-webhook-cert"]
        assert "data" not in trainer.manifest
