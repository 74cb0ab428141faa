"""The predictor's surroundings: object store keys, its ServiceAccount, who may call it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.kubeflow.checks.schema import validate_objects
from infra.kubeflow.objects import InstallPlan, Manifest, ObjectKey, PlannedObject
from infra.serving.access import FRONT_HOPS, inference_paths, predict_policy, serving_access
from infra.serving.inference import inference_service
from infra.serving.storage import PROFILE_SECRET_NAME, ObjectStore, object_store
from tests.serving_fixtures import (
    ISTIO_CRDS,
    KSERVE_CRDS,
    make_release,
    release_crd,
    serving_options,
)


def _apiserver(env: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ml-pipeline", "namespace": "kubeflow"},
        "spec": {"template": {"spec": {"containers": [{"name": "api", "env": env}]}}},
    }


def _plan(*manifests: Manifest) -> InstallPlan:
    objects = tuple(PlannedObject(ObjectKey.of(m), m, "pipelines") for m in manifests)
    return InstallPlan("26.03", ("pipelines",), objects, {}, (), ())


INSTALL_CONFIG: Manifest = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "pipeline-install-config", "namespace": "kubeflow"},
    "data": {"bucketName": "models-bucket"},
}
SEAWEEDFS_ENV = [
    {"name": "OBJECTSTORECONFIG_HOST", "value": "seaweedfs.kubeflow"},
    {"name": "OBJECTSTORECONFIG_PORT", "value": "9000"},
    {
        "name": "OBJECTSTORECONFIG_BUCKETNAME",
        "valueFrom": {"configMapKeyRef": {"key": "bucketName", "name": "pipeline-install-config"}},
    },
]


def test_the_26_03_store_is_what_kfp_is_configured_with() -> None:
    store = object_store(_plan(_apiserver(SEAWEEDFS_ENV), INSTALL_CONFIG))
    assert store == ObjectStore("kubeflow", "seaweedfs", 9000, "models-bucket")
    assert store.endpoint == "seaweedfs.kubeflow:9000"
    assert store.as_output()["portForward"] == (
        "kubectl -n kubeflow port-forward svc/seaweedfs 9000:9000"
    )


def test_without_a_host_kfp_uses_its_minio_default_when_the_plan_has_it() -> None:
    minio: Manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "minio-service", "namespace": "kubeflow"},
        "spec": {"ports": [{"port": 9000}]},
    }
    store = object_store(_plan(_apiserver([]), minio))
    assert store is not None and store.endpoint == "minio-service.kubeflow:9000"
    assert store.bucket == "mlpipeline"
    assert object_store(_plan(_apiserver([]))) is None
    assert object_store(_plan(INSTALL_CONFIG)) is None


def test_secret_account_and_policy_around_the_predictor() -> None:
    plan = _plan(_apiserver(SEAWEEDFS_ENV), INSTALL_CONFIG)
    access = serving_access(plan, model="iris", namespace="ds", owners=["a@x.io"])
    secret, account, policy = access.objects
    assert secret["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "seaweedfs.kubeflow:9000",
        "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-region": "us-east-1",
    }
    # no keys in the core: the shell reads the profile's own Secret (never the admin's)
    assert "stringData" not in secret and "data" not in secret
    assert PROFILE_SECRET_NAME == "mlpipeline-minio-artifact"
    assert account["secrets"] == [{"name": secret["metadata"]["name"]}]
    assert access.service_account == account["metadata"]["name"]
    assert {m["metadata"]["namespace"] for m in access.objects} == {"ds"}
    front, mesh = policy["spec"]["rules"]
    assert policy["spec"]["selector"]["matchLabels"] == {
        "serving.knative.dev/service": "iris-predictor"
    }
    # who may call, hop by hop, is tested with Istio's rules in test_predict_through_istio
    assert front["from"] == [{"source": {"principals": list(FRONT_HOPS)}}]
    assert "/v1/models/iris:predict" in front["to"][0]["operation"]["paths"]
    assert front["when"][0]["values"] == ["a@x.io", "system:serviceaccount:ds:*"]
    assert mesh["from"] == [{"source": {"namespaces": ["ds"]}}] and "when" not in mesh


def test_without_a_store_only_the_policy() -> None:
    access = serving_access(_plan(), model="iris", namespace="ds", owners=[])
    assert [m["kind"] for m in access.objects] == ["AuthorizationPolicy"]
    assert access.service_account is None


def test_the_predictor_runs_as_the_store_account_unless_config_names_one() -> None:
    release = make_release()
    default = inference_service(
        release, serving_options("ds"), default_service_account="kfstack-model-reader"
    )
    assert default["spec"]["predictor"]["serviceAccountName"] == "kfstack-model-reader"
    named = inference_service(
        release,
        serving_options("ds", service_account="mine"),
        default_service_account="kfstack-model-reader",
    )
    assert named["spec"]["predictor"]["serviceAccountName"] == "mine"
    assert default["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_everything_validates_against_the_26_03_schemas(kubeflow_manifests: Path) -> None:
    crds = [
        release_crd(kubeflow_manifests, ISTIO_CRDS, "authorizationpolicies.security.istio.io"),
        release_crd(kubeflow_manifests, KSERVE_CRDS, "inferenceservices.serving.kserve.io"),
    ]
    plan = _plan(_apiserver(SEAWEEDFS_ENV), INSTALL_CONFIG)
    access = serving_access(plan, model="iris", namespace="ds", owners=["a@x.io"])
    served = inference_service(make_release(), serving_options("ds"), default_service_account="sa")
    ours = [*access.objects, served]
    findings = validate_objects([*crds, *ours], kubernetes_version="1.34")
    keys = {ObjectKey.of(m) for m in ours}
    assert [f for f in findings if f.key in keys] == []
    broken = predict_policy("iris", "ds", [])
    broken["spec"]["action"] = "PERMIT"
    findings = validate_objects([*crds, broken], kubernetes_version="1.34")
    assert any(f.severity == "error" and "PERMIT" in f.message for f in findings)


def test_inference_paths_cover_v1_and_v2() -> None:
    assert inference_paths("m") == [
        "/v1/models/m",
        "/v1/models/m:predict",
        "/v2/models/m",
        "/v2/models/m/infer",
    ]


def test_the_v1_10_store_is_kfps_minio_default(kubeflow_manifests: Path) -> None:
    """v1.10.2 (MinIO): the API server names no host, so KFP uses minio-service:9000."""
    root = kubeflow_manifests.parents[1] / "v1.10.2" / "manifests" / "applications/pipeline"
    upstream = root / "upstream"
    apiserver = yaml.safe_load(
        (upstream / "base/pipeline/ml-pipeline-apiserver-deployment.yaml").read_text()
    )
    service = yaml.safe_load((upstream / "third-party/minio/base/minio-service.yaml").read_text())
    for manifest in (apiserver, service):
        manifest["metadata"]["namespace"] = "kubeflow"
    store = object_store(_plan(apiserver, service, INSTALL_CONFIG))
    assert store is not None
    assert store.endpoint == "minio-service.kubeflow:9000"
    assert store.bucket == "models-bucket"  # from pipeline-install-config, as KFP reads it
