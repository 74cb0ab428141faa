"""KServe reads the model from the platform's own object store (pure).

A pipeline run on the cluster leaves its model in Kubeflow Pipelines' object store
(`s3://mlpipeline/...`): SeaweedFS in Kubeflow 26.03, MinIO in v1.10, both behind an S3
API. KServe's storage initializer reads `s3://` with the keys of a Secret attached to the
predictor's ServiceAccount, and takes the endpoint from the Secret's annotations
(26.03's `inferenceservice-config` leaves the default S3 endpoint empty, i.e. AWS).

The store is found in the install plan the way KFP's API server finds it: the
`OBJECTSTORECONFIG_HOST`/`_PORT` env of the `ml-pipeline` Deployment (26.03: SeaweedFS),
else KFP's built-in default `minio-service.kubeflow:9000` when the plan holds that Service
(v1.10: MinIO). This is the one place the store is worked out: the release table does not
say it.

The keys are the serving namespace's own: the Secret `mlpipeline-minio-artifact` that the
release's pipelines profile controller makes in each profile namespace (26.03: keys of that
profile alone, limited to its paths; v1.10: the release's copy of the MinIO keys). Its
fields (`accesskey`, `secretkey`) are not the names KServe reads, so the shell reads that
Secret at `pulumi up` and writes its values, under KServe's names, into the Secret the
predictor's ServiceAccount carries, in the same namespace. The platform's admin keys never
reach a user namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.kubeflow import InstallPlan, Manifest

# KServe's default key names (inferenceservice-config `credentials.s3`).
ACCESS_KEY_FIELD = "AWS_ACCESS_KEY_ID"
SECRET_KEY_FIELD = "AWS_SECRET_ACCESS_KEY"
#: The profile's own object store Secret (the release's profile controller makes it).
PROFILE_SECRET_NAME = "mlpipeline-minio-artifact"
#: KServe's field -> the profile Secret's field holding that key.
PROFILE_KEY_FIELDS = {ACCESS_KEY_FIELD: "accesskey", SECRET_KEY_FIELD: "secretkey"}
S3_ANNOTATION = "serving.kserve.io/s3-"
DEFAULT_REGION = "us-east-1"  # neither store checks it; the S3 client needs one
KFP_DEFAULT_SERVICE = ("kubeflow", "minio-service", 9000)
STORE_SECRET_NAME = "kfstack-model-store"
STORE_ACCOUNT_NAME = "kfstack-model-reader"


@dataclass(frozen=True)
class ObjectStore:
    """The in-cluster S3 endpoint KFP writes artifacts to."""

    namespace: str
    service: str
    port: int
    bucket: str = "mlpipeline"
    region: str = DEFAULT_REGION

    @property
    def endpoint(self) -> str:
        """host:port inside the cluster, as KServe's `s3-endpoint` annotation wants it."""
        return f"{self.service}.{self.namespace}:{self.port}"

    def as_output(self) -> dict[str, Any]:
        """The stack output `objectStore` (no keys: those are separate secret outputs)."""
        return {
            "endpoint": self.endpoint,
            "namespace": self.namespace,
            "service": self.service,
            "port": self.port,
            "bucket": self.bucket,
            "region": self.region,
            "portForward": (
                f"kubectl -n {self.namespace} port-forward svc/{self.service} "
                f"{self.port}:{self.port}"
            ),
        }


def _env(manifest: Manifest) -> dict[str, Any]:
    spec = manifest.get("spec", {}).get("template", {}).get("spec", {})
    found: dict[str, Any] = {}
    for container in spec.get("containers", []):
        for item in container.get("env", []) or []:
            if "value" in item:
                found[item["name"]] = item["value"]
            elif "valueFrom" in item:
                found[item["name"]] = item["valueFrom"]
    return found


def _bucket(manifests: Sequence[Manifest], env: Mapping[str, Any]) -> str:
    raw = env.get("OBJECTSTORECONFIG_BUCKETNAME")
    if isinstance(raw, str) and raw:
        return raw
    ref = raw.get("configMapKeyRef", {}) if isinstance(raw, dict) else {}
    name, key = ref.get("name", "pipeline-install-config"), ref.get("key", "bucketName")
    for manifest in manifests:
        if manifest.get("kind") == "ConfigMap" and manifest["metadata"].get("name") == name:
            value = (manifest.get("data") or {}).get(key)
            if value:
                return str(value)
    return "mlpipeline"


def object_store(plan: InstallPlan) -> ObjectStore | None:
    """The platform's object store, as KFP's API server is configured; None without KFP."""
    manifests = [o.manifest for o in plan.objects]
    apiserver = next(
        (
            m
            for m in manifests
            if m.get("kind") == "Deployment" and m["metadata"].get("name") == "ml-pipeline"
        ),
        None,
    )
    if apiserver is None:
        return None
    env = _env(apiserver)
    bucket = _bucket(manifests, env)
    host = env.get("OBJECTSTORECONFIG_HOST")
    if isinstance(host, str) and host:
        service, _, namespace = host.partition(".")
        raw_port = env.get("OBJECTSTORECONFIG_PORT")
        port = (
            int(raw_port) if isinstance(raw_port, str | int) and str(raw_port).isdigit() else 9000
        )
        default_ns = str(apiserver["metadata"].get("namespace", "kubeflow"))
        return ObjectStore(namespace or default_ns, service, port, bucket)
    namespace, service, port = KFP_DEFAULT_SERVICE
    holds_default = any(
        m.get("kind") == "Service"
        and m["metadata"].get("name") == service
        and m["metadata"].get("namespace") == namespace
        for m in manifests
    )
    return ObjectStore(namespace, service, port, bucket) if holds_default else None


def store_secret(store: ObjectStore, namespace: str) -> Manifest:
    """The Secret KServe's storage initializer reads: S3 annotations, no keys yet.

    The shell adds `stringData` (`PROFILE_KEY_FIELDS`) from the namespace's own
    `PROFILE_SECRET_NAME`, read from the cluster.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": STORE_SECRET_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kfstack"},
            "annotations": {
                f"{S3_ANNOTATION}endpoint": store.endpoint,
                f"{S3_ANNOTATION}usehttps": "0",
                f"{S3_ANNOTATION}region": store.region,
            },
        },
        "type": "Opaque",
    }


def store_service_account(namespace: str) -> Manifest:
    """The ServiceAccount the predictor runs as: it carries the store Secret."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": STORE_ACCOUNT_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kfstack"},
        },
        "secrets": [{"name": STORE_SECRET_NAME}],
    }
