"""Every shared release: aggregated ClusterRoles and empty data maps left to the API server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.kubeflow.transforms.aggregation import is_aggregated_role
from infra.kubeflow.transforms.empty_fields import empty_fields
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
def test_no_object_of_a_release_sends_an_empty_field_the_api_server_drops(
    release_plans: Callable[[str], FullPlan], release: str
) -> None:
    objects = release_plans(release).plan.objects
    assert [(str(o.key), empty_fields(o)) for o in objects if empty_fields(o)] == []
    # the ones the engine tier and the full preset's benchmark found on 26.03
    if release == "26.03":
        names = {"kubeflow-trainer-webhook-cert": "data", "kubeflow-spark-admin": "rules"}
        found = {o.key.name: o.manifest for o in objects if o.key.name in names}
        assert found.keys() == names.keys()
        assert [n for n, field in names.items() if field in found[n]] == []
