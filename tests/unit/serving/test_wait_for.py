"""What `pulumi up` relies on when it waits for the InferenceService (pinned).

pulumi-kubernetes (provider/pkg/await/condition: custom.go, kubectl.go) reads the
`pulumi.com/waitFor` annotation `condition=<Type>[=<Status>]` (status defaults to True)
and is satisfied when `.status.conditions` has that type (case-insensitive) with that
status, unless the condition's (or the status's) observedGeneration is behind
metadata.generation. It waits until the resource's customTimeouts end, then fails. This
module restates those rules and checks our annotation and KServe's statuses against them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.config import parse_settings
from infra.serving.inference import WAIT_FOR, inference_service
from infra.serving.inputs import load_serving_inputs
from tests.serving_fixtures import make_release, serving_options, write_release_file


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
    manifest = inference_service(make_release(), serving_options("ns"))
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


def test_no_wait_in_the_kwok_test_mode(tmp_path: Path) -> None:
    """The engine tier runs no KServe controller: nothing would ever be Ready there."""
    manifest = inference_service(make_release(), serving_options("ns", await_ready=False))
    assert "pulumi.com/waitFor" not in manifest["metadata"]["annotations"]
    record = write_release_file(tmp_path / "r.json", make_release())
    for mode, waits in ((None, True), ("kwok", False)):
        kubeflow: dict[str, Any] = {"testMode": mode} if mode else {}
        raw = {
            "kfstack:kubeflow": json.dumps(kubeflow),
            "kfstack:serving": json.dumps({"releaseRecord": str(record)}),
        }
        settings = parse_settings(raw, stack="dev", require_secrets=False)
        inputs = load_serving_inputs(settings, base=tmp_path)
        assert inputs is not None and inputs.options.await_ready is waits
