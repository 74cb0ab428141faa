"""The train step's job against each shared release: its kind, its schema, the runner's RBAC.

Each release's training component (the catalogue's `trainer` or `training-operator`) is
rendered with the pinned kustomize; the job kind comes from its CRDs, the manifest must pass
their schema, and the profile's `kubeflow-edit` (what the pipeline runner's `default-editor`
is bound to, through the roles aggregated into it) must allow what the step does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from infra.kubeflow.checks.schema import validate_objects
from ml.model import TrainConfig
from ml.workers.cluster import jobset_tf_config, place
from ml.workers.jobs import (
    RUNTIME,
    TFJOB,
    TRAINJOB,
    JobRequest,
    job_kind,
    job_manifest,
    runtime,
    served_by_crds,
)
from ml.workers.spec import WorkerSpec
from tests.components import render_component

TRAINING = {"26.03": ("trainer", TRAINJOB), "v1.10.2": ("training-operator", TFJOB)}
EDIT = "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit"
#: What the step does with its job, and with the pods' logs for progress.
NEEDED = [("create", "job"), ("get", "job"), ("watch", "job"), ("delete", "job")]


@pytest.fixture(scope="module", params=sorted(TRAINING))
def release(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[dict[str, Any]]]:
    """(release, the objects of its training component as kustomize renders them)."""
    name = request.param
    build = tmp_path_factory.mktemp("render") / "build"
    return name, render_component(name, TRAINING[name][0], build)


def _request(workers: int = 3) -> JobRequest:
    spec = WorkerSpec(
        dataset="s3://mlpipeline/private/ns/data/people",
        out="s3://mlpipeline/private/ns/models/people",
        version=1,
        config=TrainConfig(epochs=5),
    )
    return JobRequest(
        name="train-abc123",
        namespace="kubeflow-user-example-com",
        image="ghcr.io/kfstack/ml@sha256:" + "ab12" * 16,
        workers=workers,
        spec=spec,
        store_endpoint="http://seaweedfs.kubeflow:9000",
    )


def test_the_release_crds_decide_the_kind(release: tuple[str, list[dict[str, Any]]]) -> None:
    name, objects = release
    assert job_kind(served_by_crds(objects)) == TRAINING[name][1]
    with pytest.raises(ValueError, match="serves neither TrainJob"):
        job_kind([("kubeflow.org", "PyTorchJob", ["v1"])])


def test_the_job_validates_against_the_release_crd(
    release: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = release
    kind = job_kind(served_by_crds(objects))
    job = job_manifest(kind, _request())
    crds = [o for o in objects if o.get("kind") == "CustomResourceDefinition"]
    extra = [runtime(4)] if kind == TRAINJOB else []
    findings = validate_objects([*crds, job, *extra], kubernetes_version="1.33")
    errors = [f for f in findings if f.severity == "error"]
    assert errors == []
    assert not [f for f in findings if f.rule == "validate.no-schema" and f.key.kind == kind.kind]
    # the spec travels as an argument, the profile's keys from its Secret
    text = json.dumps(job)
    assert '"--spec-json"' in text and "mlpipeline-minio-artifact" in text
    assert "secretkey" in text and "AWS_SECRET_ACCESS_KEY" in text


def _allows(rules: list[Mapping[str, Any]], verb: str, group: str, resource: str) -> bool:
    return any(
        group in r.get("apiGroups", ())
        and resource in r.get("resources", ())
        and (verb in r.get("verbs", ()) or "*" in r.get("verbs", ()))
        for r in rules
    )


def test_the_profile_editor_may_run_the_job(release: tuple[str, list[dict[str, Any]]]) -> None:
    """The roles the release aggregates into kubeflow-edit allow what the step does."""
    _, objects = release
    kind = job_kind(served_by_crds(objects))
    rules = [
        rule
        for o in objects
        if o.get("kind") == "ClusterRole"
        and (o["metadata"].get("labels") or {}).get(EDIT) == "true"
        for rule in o.get("rules") or ()
    ]
    for verb, _ in NEEDED:
        assert _allows(rules, verb, kind.group, kind.plural), (verb, kind.plural)


def test_a_trainjob_pod_finds_its_place_from_the_jobset() -> None:
    request = _request(3)
    job = job_manifest(TRAINJOB, request)
    env = {e["name"]: e.get("value", "") for e in job["spec"]["trainer"]["env"]}
    config = jobset_tf_config(env | {"JOB_COMPLETION_INDEX": "2"})
    assert config is not None
    assert config["cluster"] == {
        "worker": [f"train-abc123-node-0-{i}.train-abc123:2222" for i in range(3)]
    }
    assert place({"TF_CONFIG": json.dumps(config)}).index == 2
    assert job["spec"]["runtimeRef"]["name"] == RUNTIME
    assert jobset_tf_config({"KFSTACK_JOB": "x", "TF_CONFIG": "{}"}) is None  # TFJob's own
    with pytest.raises(ValueError, match="JOB_COMPLETION_INDEX"):
        jobset_tf_config({"KFSTACK_JOB": "x", "KFSTACK_WORKERS": "2"})


class FakeApi:
    """The API server as `follow` sees it: a controller moves the job through `statuses`."""

    def __init__(self, statuses: list[list[tuple[str, str]]]) -> None:
        self.statuses, self.calls, self.created = statuses, [], None

    def create_namespaced_custom_object(self, *where: Any) -> None:
        self.calls.append(("create", where[:4]))
        self.created = where[4]

    def get_namespaced_custom_object(self, *where: Any) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        conditions = [
            {"type": t, "status": "True", "reason": r, "message": f"{t} because {r}"}
            for t, r in status
        ]
        return {**self.created, "status": {"conditions": conditions}}

    def delete_namespaced_custom_object(self, *where: Any) -> None:
        self.calls.append(("delete", where))


@pytest.mark.parametrize(("kind", "done"), [(TRAINJOB, "Complete"), (TFJOB, "Succeeded")])
def test_follow_reports_each_condition_until_success(kind: Any, done: str) -> None:
    from ml.workers.submit import follow

    api = FakeApi([[], [("Created", "")], [("Created", ""), ("Running", "")], [(done, "Done")]])
    lines: list[str] = []
    state = follow(
        api, kind, job_manifest(kind, _request()), report=lines.append, sleep=lambda _: None
    )
    assert state.phase == "succeeded"
    assert api.calls[0] == (
        "create",
        (kind.group, kind.version, "kubeflow-user-example-com", kind.plural),
    )
    assert lines[0].endswith("created") and lines[-1].endswith(done)
    assert [line.split(": ")[-1] for line in lines[1:]] == [
        "pending",
        "Created",
        "Created, Running",
        done,
    ]


def test_a_failed_or_late_job_is_an_error_with_its_reason() -> None:
    from ml.workers.submit import JobFailed, follow

    api = FakeApi([[("Failed", "BackoffLimitExceeded")]])
    with pytest.raises(JobFailed, match="failed: BackoffLimitExceeded: Failed because"):
        follow(api, TFJOB, job_manifest(TFJOB, _request()), report=lambda _: None)
    ticks = iter(range(0, 1000, 60))
    api = FakeApi([[("Created", "")]])
    with pytest.raises(JobFailed, match="did not end within 120 s; deleted"):
        follow(
            api,
            TRAINJOB,
            job_manifest(TRAINJOB, _request()),
            report=lambda _: None,
            timeout=120,
            clock=lambda: float(next(ticks)),
            sleep=lambda _: None,
        )
    assert api.calls[-1][0] == "delete"
