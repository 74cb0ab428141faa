"""The serving loop under mocks: pipeline, registry entry and InferenceService of a release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.serving.pipeline import PipelinePackageError
from ml.release import ReleaseError
from tests.serving_fixtures import make_release, write_pipeline, write_release_file
from tests.stack.harness import Recording, Registered, run_stack_file

STACKS = Path(__file__).resolve().parents[2] / "stacks"
SERVING = "kfstack:serving:ModelServing"
IS_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
ENTRY_TYPE = "pulumi-python:dynamic/kfstack:ModelRegistryEntry"


def _staging(
    manifests: Path, serving: dict[str, Any], *, recording: Recording | None = None
) -> Recording:
    return run_stack_file(
        STACKS / "Pulumi.staging.yaml",
        overrides={
            "kfstack:kubeflow": {
                "source": {"path": str(manifests)},
                "components": ["model-registry"],
            },
            "kfstack:serving": serving,
        },
        recording=recording,
    )


def _names_of(rec: Recording, resource: Registered) -> set[str]:
    by_urn = rec.by_urn()
    return {by_urn[u].name for u in resource.dependencies if u in by_urn}


@pytest.fixture(scope="module")
def first_release(
    kubeflow_manifests: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Recording, Path]:
    tmp = tmp_path_factory.mktemp("serving")
    release = write_release_file(tmp / "release.json", make_release("1"))
    pipeline = write_pipeline(tmp / "pipeline.yaml")
    rec = _staging(
        kubeflow_manifests,
        {
            "releaseRecord": str(release),
            "pipelinePackage": str(pipeline),
            "namespace": "data-science",
            "storage": "model-registry",
        },
    )
    return rec, tmp


def test_inference_service_spec_and_dependencies(first_release: tuple[Recording, Path]) -> None:
    rec, _ = first_release
    served = rec.one(IS_TYPE)
    predictor = served.inputs["spec"]["predictor"]
    assert served.inputs["metadata"]["namespace"] == "data-science"
    assert predictor["model"]["storageUri"] == "model-registry://iris/1"
    assert predictor["model"]["runtimeVersion"] == "2.19.0"
    assert "canaryTrafficPercent" not in predictor
    needs = _names_of(rec, served)
    assert "model-registry-entry" in needs
    for expected in (
        "deployment:apps:kubeflow:kserve-controller-manager",
        "clusterservingruntime:serving.kserve.io:_:kserve-tensorflow-serving",
        "clusterstoragecontainer:serving.kserve.io:_:model-registry-storage-initializer",
        "customresourcedefinition:apiextensions.k8s.io:_:inferenceservices.serving.kserve.io",
        "profile:kubeflow.org:_:data-science",
    ):
        assert expected in needs, expected
    webhooks = [n for n in needs if n.startswith(("mutatingwebhook", "validatingwebhook"))]
    assert webhooks, "the KServe admission webhooks must be installed first"
    serving = rec.one(SERVING, "serving")
    assert served.parent == serving.urn


def test_registry_entry_from_the_release(first_release: tuple[Recording, Path]) -> None:
    rec, _ = first_release
    entry = rec.one(ENTRY_TYPE, "model-registry-entry")
    assert entry.inputs["model_name"] == "iris"
    assert entry.inputs["version_name"] == "1"
    assert entry.inputs["artifact_uri"] == "s3://models/iris/r1"
    assert entry.is_secret("kubeconfig")  # the stack's own cluster credentials, kept secret
    needs = _names_of(rec, entry)
    assert "deployment:apps:kubeflow:model-registry-deployment" in needs
    assert "service:core:kubeflow:model-registry-service" in needs


def test_pipeline_and_version(first_release: tuple[Recording, Path]) -> None:
    rec, _ = first_release
    pipeline = rec.one("kubernetes:pipelines.kubeflow.org/v2beta1:Pipeline")
    version = rec.one("kubernetes:pipelines.kubeflow.org/v2beta1:PipelineVersion")
    assert pipeline.inputs["metadata"]["name"] == "kfstack-training"
    assert version.inputs["spec"]["pipelineName"] == "kfstack-training"
    assert version.inputs["spec"]["pipelineSpec"]["pipelineInfo"]["name"] == "kfstack-training"
    assert version.retain_on_delete
    assert pipeline.urn in version.dependencies
    needs = _names_of(rec, version)
    assert "deployment:apps:kubeflow:ml-pipeline" in needs
    assert (
        "customresourcedefinition:apiextensions.k8s.io:_:pipelineversions.pipelines.kubeflow.org"
        in needs
    )


def test_a_second_release_is_a_canary(kubeflow_manifests: Path, tmp_path: Path) -> None:
    current = write_release_file(tmp_path / "v1.json", make_release("1"))
    new = write_release_file(tmp_path / "v2.json", make_release("2", storage="s3://models/iris/r2"))
    rec = _staging(
        kubeflow_manifests,
        {"releaseRecord": str(new), "servingRelease": str(current), "canaryTrafficPercent": 20},
    )
    served = rec.one(IS_TYPE)
    predictor = served.inputs["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 20
    assert "clusterstoragecontainer:serving.kserve.io:_:default" in _names_of(rec, served)
    assert predictor["model"]["storageUri"] == "s3://models/iris/r2"
    assert not rec.of_type("kubernetes:pipelines.kubeflow.org/v2beta1:PipelineVersion")


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, ReleaseError, "release record not found"),
        ('{"name": "iris",', ReleaseError, "malformed JSON"),
        ('{"schema_version": "kfstack.release/v1", "name": "Iris!"}', ReleaseError, "name"),
    ],
)
def test_bad_release_record_registers_nothing(
    kubeflow_manifests: Path, tmp_path: Path, content: str | None, error: type, message: str
) -> None:
    path = tmp_path / "release.json"
    if content is not None:
        path.write_text(content)
    recording = Recording()
    with pytest.raises(error, match=message):
        _staging(kubeflow_manifests, {"releaseRecord": str(path)}, recording=recording)
    assert recording.resources == []


def test_missing_pipeline_registers_nothing(kubeflow_manifests: Path, tmp_path: Path) -> None:
    recording = Recording()
    with pytest.raises(PipelinePackageError, match="compiled pipeline not found"):
        _staging(
            kubeflow_manifests,
            {"pipelinePackage": str(tmp_path / "none.yaml")},
            recording=recording,
        )
    assert recording.resources == []
