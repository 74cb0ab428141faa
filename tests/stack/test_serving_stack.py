"""The serving loop under mocks: pipeline, registry entry and InferenceService of a release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.kubeflow.checks.schema import validate_objects
from infra.kubeflow.objects import ObjectKey
from infra.serving.pipeline import PipelinePackageError
from ml.model_release import ReleaseError
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
    # KFP's webhook makes the Pipeline own its versions and sets their pipeline-id label.
    assert pipeline.retain_on_delete
    assert "labels" not in version.inputs["metadata"]
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


SECRET = "kubernetes:core/v1:Secret"
ACCOUNT = "kubernetes:core/v1:ServiceAccount"
POLICY = "kubernetes:security.istio.io/v1:AuthorizationPolicy"


def _ours(rec: Recording, type_: str) -> Registered:
    serving = rec.one(SERVING, "serving")
    found = [r for r in rec.of_type(type_) if r.parent == serving.urn]
    assert len(found) == 1, f"{type_}: {len(found)}"
    return found[0]


def test_the_predictor_reads_the_profiles_store_keys_never_the_admins(
    first_release: tuple[Recording, Path],
) -> None:
    rec, _ = first_release
    secret, account = _ours(rec, SECRET), _ours(rec, ACCOUNT)
    annotations = secret.inputs["metadata"]["annotations"]
    # 26.03: SeaweedFS, as KFP's API server is configured in the real render.
    assert annotations["serving.kserve.io/s3-endpoint"] == "seaweedfs.kubeflow:9000"
    assert annotations["serving.kserve.io/s3-usehttps"] == "0"
    assert annotations["serving.kserve.io/s3-region"]
    assert secret.is_secret("stringData")
    keys = secret.inputs["stringData"]
    # the profile's own keys, read from the Secret its profile controller made there
    assert keys == {
        "AWS_ACCESS_KEY_ID": "data-science-profile-accesskey",
        "AWS_SECRET_ACCESS_KEY": "data-science-profile-secretkey",
    }
    admin = next(
        r
        for r in rec.of_type(SECRET)
        if r.inputs["metadata"]["name"] == "mlpipeline-minio-artifact"
        and r.inputs["metadata"]["namespace"] == "kubeflow"
    )
    assert not set(admin.inputs["stringData"].values()) & set(keys.values())
    assert account.inputs["secrets"] == [{"name": secret.inputs["metadata"]["name"]}]
    assert secret.urn in account.dependencies
    assert "profile:kubeflow.org:_:data-science" in _names_of(rec, secret)
    served = rec.one(IS_TYPE)
    predictor = served.inputs["spec"]["predictor"]
    assert predictor["serviceAccountName"] == account.inputs["metadata"]["name"]
    assert account.urn in served.dependencies


def test_the_namespace_may_call_the_predictor(first_release: tuple[Recording, Path]) -> None:
    rec, _ = first_release
    policy = _ours(rec, POLICY)
    spec = policy.inputs["spec"]
    assert policy.inputs["metadata"]["namespace"] == "data-science"
    assert spec["selector"]["matchLabels"] == {"serving.knative.dev/service": "iris-predictor"}
    rule = spec["rules"][0]
    assert "/v1/models/iris:predict" in rule["to"][0]["operation"]["paths"]
    # staging's data-science@example.com owns the profile data-science
    assert rule["when"][0]["values"] == [
        "data-science@example.com",
        "system:serviceaccount:data-science:*",
    ]
    assert (
        "customresourcedefinition:apiextensions.k8s.io:_:authorizationpolicies.security.istio.io"
        in _names_of(rec, policy)
    )
    assert policy.urn in rec.one(IS_TYPE).dependencies


def test_up_waits_for_ready_within_the_configured_time(
    first_release: tuple[Recording, Path],
) -> None:
    rec, _ = first_release
    served = rec.one(IS_TYPE)
    assert served.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert served.custom_timeouts == {"create": "15m", "update": "15m"}


def _manifest(resource: Registered) -> dict[str, Any]:
    """Recorded inputs as the manifest sent: the RPC carries every number as a double."""

    def ints(node: Any) -> Any:
        if isinstance(node, float) and node.is_integer():
            return int(node)
        if isinstance(node, dict):
            return {k: ints(v) for k, v in node.items()}
        if isinstance(node, list):
            return [ints(v) for v in node]
        return node

    return {k: ints(v) for k, v in resource.inputs.items() if k != "status"}


def test_serving_objects_validate_against_the_release_schemas(
    first_release: tuple[Recording, Path],
) -> None:
    rec, _ = first_release
    crds = [
        _manifest(r)
        for r in rec.of_type("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition")
    ]
    ours = [
        _manifest(r)
        for r in (_ours(rec, SECRET), _ours(rec, ACCOUNT), _ours(rec, POLICY), rec.one(IS_TYPE))
    ]
    findings = validate_objects([*crds, *ours], kubernetes_version="1.34")
    keys = {ObjectKey.of(m) for m in ours}
    assert [f for f in findings if f.key in keys] == []
    assert len(crds) > 20


def test_ready_timeout_comes_from_config(kubeflow_manifests: Path, tmp_path: Path) -> None:
    release = write_release_file(tmp_path / "r.json", make_release("1"))
    rec = _staging(
        kubeflow_manifests,
        {"releaseRecord": str(release), "readyTimeout": "40m", "serviceAccount": "mine"},
    )
    served = rec.one(IS_TYPE)
    assert served.custom_timeouts == {"create": "40m", "update": "40m"}
    assert served.inputs["spec"]["predictor"]["serviceAccountName"] == "mine"


ROLLOUT = "pulumi-python:dynamic/kfstack:InferenceServiceRollout"


def test_a_failed_rollout_is_reported_by_a_check_beside_the_inference_service(
    first_release: tuple[Recording, Path],
) -> None:
    rec, _ = first_release
    served, check = rec.one(IS_TYPE), rec.one(ROLLOUT)
    annotations = served.inputs["metadata"]["annotations"]
    assert check.inputs["digest"] == annotations["kfstack.io/spec-digest"]
    assert (check.inputs["namespace"], check.inputs["name"]) == ("data-science", "iris")
    assert check.inputs["timeout"] == "15m"
    assert check.is_secret("kubeconfig")
    # it starts with the InferenceService (same dependencies), not after its own wait
    assert served.urn not in check.dependencies
    assert set(served.dependencies) <= set(check.dependencies)  # + the cluster (kubeconfig)


def test_the_registry_entry_can_reach_the_registry_through_the_proxy(
    first_release: tuple[Recording, Path],
) -> None:
    rec, _ = first_release
    policies = [
        r
        for r in rec.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.inputs["metadata"]["name"] == "model-registry-apiserver-proxy"
    ]
    assert len(policies) == 1
    opened = policies[0]
    assert opened.parent == rec.one(SERVING, "serving").urn
    assert opened.inputs["spec"]["podSelector"] == {
        "matchLabels": {"component": "model-registry-server"}
    }
    assert opened.urn in rec.one(ENTRY_TYPE, "model-registry-entry").dependencies
