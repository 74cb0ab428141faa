"""Aggregated ClusterRoles of every shared release leave their rules to the controller."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.kubeflow.transforms.aggregation import is_aggregated_role
from tests.release.conftest import FullPlan


@pytest.mark.parametrize("release", ["26.03", "v1.10.2"])
def test_no_aggregated_role_of_a_release_claims_rules(
    release_plans: Callable[[str], FullPlan], release: str
) -> None:
    objects = release_plans(release).plan.objects
    aggregated = [o for o in objects if is_aggregated_role(o)]
    assert {"kubeflow-admin", "kubeflow-edit", "kubeflow-view"} <= {o.key.name for o in aggregated}
    assert [o.key.name for o in aggregated if "rules" in o.manifest] == []
