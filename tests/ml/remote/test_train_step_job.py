"""The train step as a job (`ml.workers.step.run_step`) against doubles of its cluster.

The S3 double keeps each release's profile keys to what its controller allows; the API is a
double whose controller "runs" the job by uploading what the chief would export, then marks
it complete (or failed). What is checked: the shards land beside the dataset's artifact, the
job is the release's kind on the step's own image with the profile's Secret, and the model
comes back into the step's output as the one-pod step leaves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ml.data import DatasetSpec, build_dataset
from ml.model import TrainConfig
from ml.model_release.profile import PROFILE_SECRET
from ml.workers import step as step_module
from ml.workers.jobs import RUNTIME, RUNTIME_PLURAL, TFJOB, TRAINJOB, JobKind, runtime
from ml.workers.step import StepInput, run_step
from ml.workers.submit import JobFailed
from tests.ml.conftest import HEADER, classification_rows, write_rows
from tests.ml.remote.conftest import NAMESPACE, ProfileFile

IMAGE = "ghcr.io/kfstack/ml@sha256:" + "cd34" * 16
ROOT = f"s3://mlpipeline/private-artifacts/{NAMESPACE}/v2/artifacts/kfstack-training/run-1"
KINDS = {"26.03": TRAINJOB, "v1.10.2": TFJOB}


class Cluster:
    """CoreV1Api, CustomObjectsApi and ApisApi as the step calls them, with a fake controller."""

    def __init__(self, profile: ProfileFile, kind: JobKind, s3: Any, *, outcome: str) -> None:
        self.secret = next(
            i for i in profile.grant.as_kubectl_list()["items"] if i["kind"] == "Secret"
        )
        self.kind, self.s3, self.outcome, self.jobs = kind, s3, outcome, []
        # kfstack's runtime as a stack with maxWorkers 2 installs it (26.03 only)
        self.runtimes = {RUNTIME: runtime(2)} if kind == TRAINJOB else {}

    # CoreV1Api
    def read_namespaced_secret(self, name: str, namespace: str) -> Any:
        assert (name, namespace) == (PROFILE_SECRET, NAMESPACE)
        return SimpleNamespace(data=self.secret["data"])

    def read_namespaced_pod(self, name: str, namespace: str) -> Any:
        containers = [
            SimpleNamespace(name="wait", image="launcher"),
            SimpleNamespace(name="main", image=IMAGE),
        ]
        return SimpleNamespace(spec=SimpleNamespace(containers=containers))

    # ApisApi and discovery
    def get_api_versions(self) -> Any:
        version = SimpleNamespace(version=self.kind.version)
        groups = [SimpleNamespace(name=self.kind.group, versions=[version])]
        return SimpleNamespace(groups=[*groups, SimpleNamespace(name="apps", versions=[])])

    def get_api_resources(self, group: str, version: str) -> Any:
        names = [(self.kind.plural, self.kind.kind), (f"{self.kind.plural}/status", self.kind.kind)]
        return SimpleNamespace(resources=[SimpleNamespace(name=n, kind=k) for n, k in names])

    # CustomObjectsApi
    def get_cluster_custom_object(self, group: str, version: str, plural: str, name: str) -> Any:
        from kubernetes.client.exceptions import ApiException

        assert (group, version, plural) == (TRAINJOB.group, TRAINJOB.version, RUNTIME_PLURAL)
        if name not in self.runtimes:
            raise ApiException(status=404, reason="Not Found")
        return self.runtimes[name]

    def create_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, body: Any
    ) -> None:
        self.jobs.append(body)
        if self.outcome == "Complete":  # what the chief uploads at the end of a good run
            key = ROOT.split("mlpipeline/")[1] + "/model/1/saved_model.pb"
            self.s3.put_object(Bucket="mlpipeline", Key=key, Body=b"graph")

    def get_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> Any:
        done = {"Complete": "Succeeded" if self.kind == TFJOB else "Complete"}.get(
            self.outcome, self.outcome
        )
        condition = {"type": done, "status": "True", "reason": "Test", "message": "as told"}
        return {**self.jobs[-1], "status": {"conditions": [condition]}}


@pytest.fixture
def step_input(tmp_path: Path) -> StepInput:
    csv = write_rows(tmp_path / "people.csv", HEADER, classification_rows(600))
    spec = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))
    dataset = build_dataset(csv, spec, tmp_path / "dataset").directory
    return StepInput(
        dataset_path=dataset,
        dataset_uri=f"{ROOT}/dataset",
        model_path=tmp_path / "model",
        model_uri=f"{ROOT}/model",
        workers=2,
        version=1,
        config=TrainConfig(epochs=3),
        timeout=60,
    )


@pytest.fixture
def cluster(
    monkeypatch: pytest.MonkeyPatch, s3: Any, profile: ProfileFile, tmp_path: Path
) -> Callable[[str], Cluster]:
    """The step's cluster for the profile's release, its job ending with the given outcome."""
    import kubernetes

    account = tmp_path / "sa"
    account.mkdir()
    (account / "namespace").write_text(NAMESPACE)
    endpoint = str(s3.meta.endpoint_url)
    monkeypatch.setattr(step_module, "SERVICE_ACCOUNT", account)
    monkeypatch.setattr(step_module, "ENDPOINTS", {k.kind: endpoint for k in KINDS.values()})
    monkeypatch.setattr(step_module, "MINIO_ENDPOINT", endpoint)
    monkeypatch.setenv("HOSTNAME", "kfstack-training-run-1-train-job")
    monkeypatch.setattr(kubernetes.config, "load_incluster_config", lambda: None)

    def make(outcome: str) -> Cluster:
        made = Cluster(profile, KINDS[profile.grant.release], s3, outcome=outcome)
        for api in ("CoreV1Api", "CustomObjectsApi", "ApisApi"):
            monkeypatch.setattr(kubernetes.client, api, lambda: made)
        return made

    return make


def test_the_step_shards_submits_follows_and_passes_the_model_on(
    cluster: Callable[[str], Cluster], s3: Any, step_input: StepInput
) -> None:
    made = cluster("Complete")
    lines: list[str] = []
    assert run_step(step_input, report=lines.append) == 1
    (job,) = made.jobs
    assert (job["kind"], job["metadata"]["namespace"]) == (made.kind.kind, NAMESPACE)
    assert IMAGE in str(job) and PROFILE_SECRET in str(job)
    prefix = ROOT.split("mlpipeline/")[1] + "/dataset-shards-2/"
    listed = s3.list_objects_v2(Bucket="mlpipeline", Prefix=prefix)
    names = sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"])
    assert names[:2] == ["schema.json", "statistics.json"] and len(names) == 2 + 3 * 2
    assert (step_input.model_path / "1" / "saved_model.pb").read_bytes() == b"graph"
    assert any("created" in line for line in lines) and lines[-1].startswith("model version 1")


def test_a_failed_job_fails_the_step_with_its_reason(
    cluster: Callable[[str], Cluster], step_input: StepInput
) -> None:
    cluster("Failed")
    with pytest.raises(JobFailed, match="failed: Test: as told"):
        run_step(step_input, report=lambda _: None)
    assert not step_input.model_path.exists()


def test_the_train_step_with_workers_runs_the_job(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kfp import dsl

    from ml.components.train import train

    seen: list[StepInput] = []
    monkeypatch.setattr(step_module, "run_step", lambda step: seen.append(step) or 7)
    model = dsl.Model(uri=str(tmp_path / "model"))
    dataset = dsl.Dataset(uri=str(tmp_path / "dataset"))
    train.python_func(dataset=dataset, model=model, epochs=3, class_weight="balanced", workers=3)
    (step,) = seen
    assert step.config == TrainConfig(epochs=3, class_weight="balanced")
    assert (step.workers, step.model_uri, step.timeout) == (3, model.uri, None)
    assert model.metadata["serving_version"] == 7 and model.metadata["workers"] == 3


def test_workers_above_the_stacks_limit_are_refused_before_any_upload(
    cluster: Callable[[str], Cluster], s3: Any, step_input: StepInput, profile: ProfileFile
) -> None:
    made = cluster("Complete")
    if made.kind != TRAINJOB:  # v1.10.2: the Training Operator has no runtime to hold it
        assert run_step(replace(step_input, workers=3), report=lambda _: None) == 1
        assert made.jobs[0]["spec"]["tfReplicaSpecs"]["Worker"]["replicas"] == 3
        return
    with pytest.raises(ValueError, match=r"workers=3 is more than the stack allows .*: 2"):
        run_step(replace(step_input, workers=3), report=lambda _: None)
    made.runtimes.clear()  # a stack with maxWorkers 1 installs no runtime
    with pytest.raises(ValueError, match="runs no training jobs"):
        run_step(step_input, report=lambda _: None)
    assert made.jobs == []
    assert "Contents" not in s3.list_objects_v2(Bucket="mlpipeline")
