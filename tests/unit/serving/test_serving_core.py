"""Serving's pure core: InferenceService spec, canary rules, pipeline objects, CRD schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.kubeflow.checks.schema import validate_objects
from infra.kubeflow.objects import ObjectKey
from infra.serving.inference import ServingError, inference_service
from infra.serving.pipeline import PipelinePackageError, pipeline_objects
from infra.serving.rollout import spec_digest
from tests.imports import loaded_by
from tests.serving_fixtures import (
    KSERVE_CRDS,
    make_release,
    release_crd,
    serving_options,
    write_pipeline,
)

OPTIONS = serving_options("data-science", min_replicas=1, max_replicas=3)


def test_inference_service_spec_pins_runtime_and_uses_the_parent_uri() -> None:
    manifest = inference_service(make_release(), OPTIONS)
    predictor = manifest["spec"]["predictor"]
    model = predictor["model"]
    assert manifest["apiVersion"] == "serving.kserve.io/v1beta1"
    assert manifest["metadata"] == {
        "name": "iris",
        "namespace": "data-science",
        "labels": {
            "app.kubernetes.io/name": "iris",
            "app.kubernetes.io/version": "1",
            "app.kubernetes.io/managed-by": "kfstack",
        },
        "annotations": {
            "serving.kserve.io/deploymentMode": "Serverless",
            "serving.kserve.io/enable-tag-routing": "true",
            "pulumi.com/waitFor": "condition=Ready",
            "kfstack.io/spec-digest": spec_digest(manifest),
        },
    }
    assert model["modelFormat"] == {"name": "tensorflow", "version": "2"}
    assert model["runtimeVersion"] == "2.19.0"
    assert model["storageUri"] == "s3://models/iris/r1"
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (1, 3)
    assert "canaryTrafficPercent" not in predictor


def test_model_registry_storage_uses_the_registry_uri() -> None:
    options = serving_options("ns", storage="model-registry")
    model = inference_service(make_release("7"), options)["spec"]["predictor"]["model"]
    assert model["storageUri"] == "model-registry://iris/7"


def test_a_new_version_replacing_a_serving_one_is_a_canary() -> None:
    serving = make_release("1", storage="s3://models/iris/r1")
    new = make_release("2", storage="s3://models/iris/r2")
    predictor = inference_service(new, OPTIONS, serving=serving)["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    same = inference_service(serving, OPTIONS, serving=serving)["spec"]["predictor"]
    assert "canaryTrafficPercent" not in same


def test_canary_refuses_another_model_or_a_shared_storage_uri() -> None:
    with pytest.raises(ServingError, match="model 'iris'"):
        inference_service(make_release("2", name="wine"), OPTIONS, serving=make_release("1"))
    with pytest.raises(ServingError, match="share storage_uri"):
        inference_service(make_release("2"), OPTIONS, serving=make_release("1"))


def test_inference_service_validates_against_the_26_03_crd(kubeflow_manifests: Path) -> None:
    crd = release_crd(kubeflow_manifests, KSERVE_CRDS, "inferenceservices.serving.kserve.io")
    serving = make_release("1", storage="s3://models/iris/r1")
    good = inference_service(make_release("2", storage="s3://m/iris/r2"), OPTIONS, serving=serving)
    findings = validate_objects([crd, good], kubernetes_version="1.34")
    assert [f for f in findings if f.key == ObjectKey.of(good)] == []
    bad = json.loads(json.dumps(good))
    bad["spec"]["predictor"]["minReplicas"] = "one"
    findings = validate_objects([crd, bad], kubernetes_version="1.34")
    errors = [f for f in findings if f.key == ObjectKey.of(bad) and f.severity == "error"]
    assert errors and "minReplicas" in str(errors[0])


def test_pipeline_objects_name_the_version_by_content(tmp_path: Path) -> None:
    first = pipeline_objects(write_pipeline(tmp_path / "a.yaml"), namespace="kubeflow")
    again = pipeline_objects(write_pipeline(tmp_path / "b.yaml"), namespace="kubeflow")
    changed = pipeline_objects(
        write_pipeline(tmp_path / "c.yaml", description="changed"), namespace="kubeflow"
    )
    assert first.pipeline["metadata"]["name"] == "kfstack-training"
    assert first.version["spec"]["pipelineName"] == "kfstack-training"
    assert first.version["spec"]["pipelineSpec"]["pipelineInfo"]["name"] == "kfstack-training"
    assert first.version["metadata"]["name"] == again.version["metadata"]["name"]
    assert first.version["metadata"]["name"] != changed.version["metadata"]["name"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "compiled pipeline not found"),
        ("a: [", "not valid YAML"),
        ("apiVersion: v1\nkind: Pod\n", "not a KFP v2 pipeline spec"),
    ],
)
def test_bad_pipeline_package(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "pipeline.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PipelinePackageError, match=message):
        pipeline_objects(path, namespace="kubeflow")


def test_the_serving_package_is_pure() -> None:
    """No module of infra.serving imports Pulumi (the rollout provider is a shell module)."""
    code = (
        "import importlib, pkgutil, infra.serving as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    importlib.import_module(f'{p.__name__}.{m.name}')"
    )
    assert loaded_by(code, {"pulumi"}) == []
