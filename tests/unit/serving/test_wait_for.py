"""What `pulumi up` relies on when it waits for the InferenceService (pinned).

pulumi-kubernetes (provider/pkg/await/condition: custom.go, kubectl.go) reads the
`pulumi.com/waitFor` annotation `condition=<Type>[=<Status>]` (status defaults to True)
and is satisfied when `.status.conditions` has that type (case-insensitive) with that
status, unless the condition's (or the status's) observedGeneration is behind
metadata.generation. It waits until the resource's customTimeouts end, then fails. This
module restates those rules and checks our annotation and KServe's statuses against them.
"""

from __future__ import annotations

from typing import Any

from infra.serving.inference import WAIT_FOR, ServingOptions, inference_service
from tests.serving_fixtures import make_release


def _parse(expression: str) -> tuple[str, str]:
    expression = expression.removeprefix("condition=")
    kind, _, status = expression.partition("=")
    return kind, status or "True"


def _satisfied(obj: dict[str, Any], kind: str, status: str) -> bool:
    for condition in obj.get("status", {}).get("conditions", []):
        if str(condition.get("type", "")).lower() != kind.lower():
            continue
        generation = obj.get("metadata", {}).get("generation")
        observed = condition.get("observedGeneration", obj["status"].get("observedGeneration"))
        if generation is not None and observed is not None and observed < generation:
            return False
        return str(condition.get("status", "")).lower() == status.lower()
    return False


def _isvc(ready: str, *, generation: int = 2, observed: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "status": {
            "observedGeneration": observed,
            "conditions": [
                {"type": "PredictorReady", "status": ready},
                {"type": "Ready", "status": ready, "reason": "RevisionFailed"},
            ],
        },
    }


def test_the_annotation_waits_for_ready_true() -> None:
    manifest = inference_service(make_release(), ServingOptions(namespace="ns"))
    assert (
        manifest["metadata"]["annotations"]["pulumi.com/waitFor"] == WAIT_FOR["pulumi.com/waitFor"]
    )
    assert _parse(WAIT_FOR["pulumi.com/waitFor"]) == ("Ready", "True")


def test_kserve_statuses_against_the_provider_rule() -> None:
    kind, status = _parse(WAIT_FOR["pulumi.com/waitFor"])
    assert _satisfied(_isvc("True"), kind, status)
    assert not _satisfied(_isvc("False"), kind, status)  # keeps waiting until the timeout
    assert not _satisfied(_isvc("True", generation=3, observed=2), kind, status)  # stale
    assert not _satisfied({"metadata": {}, "status": {}}, kind, status)
