"""The pipeline's train step with workers: shards to the store, a job, its model passed on.

Run inside the pipeline's train step pod (`ml.components.train` with `workers` > 1), in the
run's profile namespace, with the runner's service account (`default-editor`, bound to
`kubeflow-edit`):

1. the step's dataset (the data-preparation task's output, one file per split) is dealt into
   shards a block at a time (`ml.data.shards.reshard`) and uploaded beside the dataset's own
   artifact, `<dataset uri>-shards-<N>/`, with the profile's keys (its Secret
   `mlpipeline-minio-artifact`, read through the API);
2. the job kind is what the API server serves (`ml.workers.jobs.job_kind` over discovery:
   the release's CRDs as installed), and the job runs the step's own image (read from its
   pod) with the dataset and the step's model artifact as `s3://`-style URIs;
3. `ml.workers.submit.follow` waits for it, printing each condition (the step's log is the
   run's progress in the KFP UI);
4. the chief uploaded `<model uri>/<version>/`; the step downloads it into its output Model,
   so the next steps read it as they read a one-pod model.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.data.shards import reshard
from ml.model.training import TrainConfig
from ml.model_release.profile import PROFILE_SECRET
from ml.model_release.store import ObjectStore, StoreError, describe, s3_client, split_uri
from ml.workers.jobs import (
    RUNTIME,
    RUNTIME_PLURAL,
    TRAINJOB,
    JobKind,
    JobRequest,
    allowed_workers,
    job_kind,
    job_manifest,
)
from ml.workers.spec import WorkerSpec
from ml.workers.store import upload_tree
from ml.workers.submit import follow

__all__ = ["StepInput", "default_endpoint", "download_tree", "job_name", "run_step"]

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: The object store's S3 service as pods reach it, by the release's job kind: 26.03 has the
#: Trainer and SeaweedFS, v1.10 the Training Operator and MinIO (`ml.model_release.store`).
ENDPOINTS = {TRAINJOB.kind: "http://seaweedfs.kubeflow:9000"}
MINIO_ENDPOINT = "http://minio-service.kubeflow:9000"


@dataclass(frozen=True)
class StepInput:
    """What the step is given: its artifacts (local paths and URIs) and the run's settings."""

    dataset_path: Path
    dataset_uri: str
    model_path: Path
    model_uri: str
    workers: int
    version: int
    config: TrainConfig
    store_endpoint: str = ""
    timeout: float | None = None


def job_name(model_uri: str) -> str:
    """A DNS label unique to the step's output (its artifact URI is unique to the run)."""
    return "kfstack-train-" + hashlib.sha256(model_uri.encode()).hexdigest()[:12]


def default_endpoint(kind: JobKind) -> str:
    """The object store's in-cluster S3 endpoint of a release with this job kind."""
    return ENDPOINTS.get(kind.kind, MINIO_ENDPOINT)


def download_tree(uri: str, store: ObjectStore, to: Path) -> int:
    """Download every object under `uri` into `to` (its relative paths kept); return how many.

    Raises:
        StoreError: nothing is there, or the store refuses.

    """
    bucket, prefix = split_uri(uri)
    s3 = s3_client(store)
    count = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix + "/"
        ):
            for item in page.get("Contents", []):
                target = to / item["Key"][len(prefix) + 1 :]
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
                count += 1
    except Exception as exc:  # botocore ClientError, EndpointError
        raise StoreError(f"{uri}: {describe(exc)}") from None
    if not count:
        raise StoreError(f"{uri}: nothing there (did the job's chief export the model?)")
    return count


def run_step(step: StepInput, *, report: Callable[[str], None] = print) -> int:
    """Run the train step as a job (see the module's text); return the model's version.

    Raises:
        ValueError: the stack allows no training jobs, or fewer workers (TrainJob: the
            `kfstack-tensorflow` runtime's `kfstack:training.maxWorkers`); nothing is uploaded.
        ml.workers.submit.JobFailed: the job failed or ran out of time.
        StoreError: the store refused an upload or a download.

    """
    from kubernetes import client, config

    config.load_incluster_config()
    namespace = (SERVICE_ACCOUNT / "namespace").read_text(encoding="utf-8").strip()
    core, custom = client.CoreV1Api(), client.CustomObjectsApi()
    kind = job_kind(_served(client.ApisApi(), custom))
    if kind == TRAINJOB:  # the Training Operator (TFJob) has no runtime to hold the limit
        allowed_workers(_runtime(custom), step.workers)
    endpoint = step.store_endpoint or default_endpoint(kind)
    store = _profile_store(core, namespace, endpoint)
    shards_uri = f"{step.dataset_uri.rstrip('/')}-shards-{step.workers}"
    with tempfile.TemporaryDirectory(prefix="kfstack-shards-") as scratch:
        reshard(step.dataset_path, step.workers, Path(scratch))
        upload_tree(Path(scratch), shards_uri, store)
    report(f"dataset dealt into {step.workers} shards per split at {shards_uri}")
    spec = WorkerSpec(
        dataset=shards_uri, out=step.model_uri, version=step.version, config=step.config
    )
    request = JobRequest(
        name=job_name(step.model_uri),
        namespace=namespace,
        image=_own_image(core, namespace),
        workers=step.workers,
        spec=spec,
        store_endpoint=endpoint,
    )
    follow(custom, kind, job_manifest(kind, request), report=report, timeout=step.timeout)
    version_uri = f"{step.model_uri.rstrip('/')}/{step.version}"
    files = download_tree(version_uri, store, step.model_path / str(step.version))
    report(f"model version {step.version} ({files} files) passed on from {version_uri}")
    return step.version


def _served(apis: Any, custom: Any) -> list[tuple[str, str, list[str]]]:
    """(group, kind, versions) the API server serves, for the groups a training job may use."""
    served = []
    for group in apis.get_api_versions().groups:
        if group.name not in ("trainer.kubeflow.org", "kubeflow.org"):
            continue
        for version in group.versions:
            listed = custom.get_api_resources(group.name, version.version)
            kinds = {r.kind for r in listed.resources if "/" not in r.name}
            served += [(group.name, kind, [version.version]) for kind in sorted(kinds)]
    return served


def _runtime(custom: Any) -> dict[str, Any] | None:
    """The `kfstack-tensorflow` ClusterTrainingRuntime as installed (None: not there)."""
    from kubernetes.client.exceptions import ApiException

    try:
        found: dict[str, Any] = custom.get_cluster_custom_object(
            TRAINJOB.group, TRAINJOB.version, RUNTIME_PLURAL, RUNTIME
        )
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


def _profile_store(core: Any, namespace: str, endpoint: str) -> ObjectStore:
    """The profile's own keys, from its Secret (what its pipeline steps use)."""
    data = core.read_namespaced_secret(PROFILE_SECRET, namespace).data or {}
    keys = {k: base64.b64decode(data.get(k, "")).decode() for k in ("accesskey", "secretkey")}
    return ObjectStore(endpoint, keys["accesskey"], keys["secretkey"])


def _own_image(core: Any, namespace: str) -> str:
    """The image of the step's own main container: the component image, by digest."""
    pod = core.read_namespaced_pod(os.environ["HOSTNAME"], namespace)
    for container in pod.spec.containers:
        if container.name == "main":
            return str(container.image)
    return str(pod.spec.containers[0].image)
