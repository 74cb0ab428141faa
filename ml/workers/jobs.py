"""The train step as a Kubeflow training job: which kind the release has, and its manifest.

Kubeflow 26.03 ships the Trainer (`TrainJob`, `trainer.kubeflow.org/v1alpha1`), v1.10.2 the
Training Operator (`TFJob`, `kubeflow.org/v1`). The kind is read from what the release serves
(`job_kind`: its CRDs, or the API server's discovery, as (group, kind, versions)), never from
a version string. Both run the component image's `python -m ml.workers.worker` in N pods of
the run's namespace, with the spec in an argument and the profile's object store keys from
its own Secret (`mlpipeline-minio-artifact`, `ml.model_release.profile`):

- a TFJob's operator writes each pod's TF_CONFIG (Worker replicas only: worker 0 is chief);
- the Trainer has no TensorFlow policy: the TrainJob runs on the `kfstack-tensorflow`
  ClusterTrainingRuntime (`runtime`, a JobSet of one indexed Job, in the stack's plan), and
  each pod builds its TF_CONFIG from the JobSet's stable host names and its completion index
  (`ml.workers.cluster.place`, `KFSTACK_JOB` / `KFSTACK_WORKERS`).

Istio sidecars are left out of the pods: a sidecar never exits, so a Job would never
complete (KFP's own step pods run without one too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ml.model_release.profile import PROFILE_SECRET
from ml.workers.cluster import JOB_ENV, PORT, REPLICATED_JOB, WORKERS_ENV
from ml.workers.spec import WorkerSpec

__all__ = [
    "RUNTIME",
    "TFJOB",
    "TRAINJOB",
    "JobKind",
    "JobRequest",
    "allowed_workers",
    "job_kind",
    "job_manifest",
    "runtime",
]

#: The ClusterTrainingRuntime a TrainJob of kfstack runs on, and that kind's resource.
RUNTIME, RUNTIME_PLURAL = "kfstack-tensorflow", "clustertrainingruntimes"
#: Its annotation holding the stack's `kfstack:training.maxWorkers`. The step reads it before
#: it submits: every authenticated user may read ClusterTrainingRuntimes (the Trainer's own
#: `kubeflow-trainer-view-cluster-runtimes` binding), the run's namespace sees no stack config.
MAX_WORKERS = "kfstack.io/max-workers"
#: TFJob's container must have this name (the operator finds its port by it).
TFJOB_CONTAINER = "tensorflow"
NO_SIDECAR = {"sidecar.istio.io/inject": "false"}


@dataclass(frozen=True)
class JobKind:
    """A training job kind: its API group, version, kind and resource."""

    group: str
    version: str
    kind: str
    plural: str

    @property
    def api_version(self) -> str:
        """`group/version`."""
        return f"{self.group}/{self.version}"


TRAINJOB = JobKind("trainer.kubeflow.org", "v1alpha1", "TrainJob", "trainjobs")
TFJOB = JobKind("kubeflow.org", "v1", "TFJob", "tfjobs")


def job_kind(served: Iterable[tuple[str, str, Iterable[str]]]) -> JobKind:
    """The job kind of a release from what it serves: (group, kind, versions) of its CRDs.

    TrainJob when the release has the Trainer, else TFJob when it has the Training Operator.

    Raises:
        ValueError: neither is served (the release has no training component).

    """
    found = {(group, kind): set(versions) for group, kind, versions in served}
    for candidate in (TRAINJOB, TFJOB):
        if candidate.version in found.get((candidate.group, candidate.kind), set()):
            return candidate
    raise ValueError(
        "the release serves neither TrainJob (trainer.kubeflow.org/v1alpha1, the Trainer) nor "
        "TFJob (kubeflow.org/v1, the Training Operator): add its training component "
        "(`trainer` or `training-operator`) to the stack's Kubeflow components"
    )


def served_by_crds(crds: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, list[str]]]:
    """(group, kind, served versions) of each CustomResourceDefinition among `crds`."""
    out = []
    for crd in crds:
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        spec = crd.get("spec") or {}
        versions = [v["name"] for v in spec.get("versions") or () if v.get("served", True)]
        out.append((str(spec.get("group")), str((spec.get("names") or {}).get("kind")), versions))
    return out


@dataclass(frozen=True)
class JobRequest:
    """One training job of a pipeline run.

    Attributes:
        name: The job's name (a DNS label; also the JobSet's and the pods' host names).
        namespace: The run's (profile) namespace.
        image: The component image, by digest.
        workers: Worker pods.
        spec: What every worker does; its dataset and export root are `s3://` URIs.
        store_endpoint: The object store's S3 endpoint as pods reach it.
        cpu: CPU requested per worker.
        memory: Memory requested per worker.

    """

    name: str
    namespace: str
    image: str
    workers: int
    spec: WorkerSpec
    store_endpoint: str
    cpu: str = "1"
    memory: str = "2Gi"


def _command(request: JobRequest) -> list[str]:
    return ["python", "-m", "ml.workers.worker", "--spec-json", request.spec.model_dump_json()]


def _env(request: JobRequest) -> list[dict[str, Any]]:
    def secret(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": PROFILE_SECRET, "key": key}}}

    return [
        {"name": "AWS_ENDPOINT_URL", "value": request.store_endpoint},
        secret("AWS_ACCESS_KEY_ID", "accesskey"),
        secret("AWS_SECRET_ACCESS_KEY", "secretkey"),
        {"name": "TF_CPP_MIN_LOG_LEVEL", "value": "2"},
    ]


def _resources(request: JobRequest) -> dict[str, Any]:
    return {"requests": {"cpu": request.cpu, "memory": request.memory}}


def job_manifest(kind: JobKind, request: JobRequest) -> dict[str, Any]:
    """The job object for `kind` (TrainJob or TFJob) running `request`."""
    metadata = {
        "name": request.name,
        "namespace": request.namespace,
        "labels": {"app.kubernetes.io/managed-by": "kfstack"},
    }
    head = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata}
    if kind == TRAINJOB:
        return head | {"spec": _trainjob_spec(request)}
    if kind == TFJOB:
        return head | {"spec": _tfjob_spec(request)}
    raise ValueError(f"not a training job kind kfstack runs: {kind}")


def _trainjob_spec(request: JobRequest) -> dict[str, Any]:
    env = [
        *_env(request),
        {"name": JOB_ENV, "value": request.name},
        {"name": WORKERS_ENV, "value": str(request.workers)},
    ]
    return {
        "runtimeRef": {
            "apiGroup": TRAINJOB.group,
            "kind": "ClusterTrainingRuntime",
            "name": RUNTIME,
        },
        "trainer": {
            "image": request.image,
            "command": _command(request),
            "env": env,
            "numNodes": request.workers,
            "resourcesPerNode": _resources(request),
        },
        "podTemplateOverrides": [
            {"targetJobs": [{"name": REPLICATED_JOB}], "metadata": {"annotations": NO_SIDECAR}}
        ],
    }


def _tfjob_spec(request: JobRequest) -> dict[str, Any]:
    container = {
        "name": TFJOB_CONTAINER,
        "image": request.image,
        "command": _command(request),
        "env": _env(request),
        "ports": [{"name": "tfjob-port", "containerPort": PORT}],
        "resources": _resources(request),
    }
    return {
        "runPolicy": {"backoffLimit": 0, "cleanPodPolicy": "None"},
        "tfReplicaSpecs": {
            "Worker": {
                "replicas": request.workers,
                "restartPolicy": "Never",
                "template": {
                    "metadata": {"annotations": NO_SIDECAR},
                    "spec": {"containers": [container]},
                },
            }
        },
    }


def allowed_workers(found: Mapping[str, Any] | None, workers: int) -> None:
    """Check a run's `workers` against kfstack's runtime as the stack installed it.

    Args:
        found: The `kfstack-tensorflow` ClusterTrainingRuntime read from the API server
            (None: there is none).
        workers: The workers the run asks for.

    Raises:
        ValueError: there is no runtime (the stack allows no jobs), or `workers` is above the
            stack's `kfstack:training.maxWorkers`.

    """
    if found is None:
        raise ValueError(
            f"ClusterTrainingRuntime {RUNTIME} is not installed: this stack runs no training "
            "jobs (set kfstack:training.maxWorkers above 1 and run pulumi up), or train with "
            "workers=1"
        )
    annotations = (found.get("metadata") or {}).get("annotations") or {}
    limit = annotations.get(MAX_WORKERS, "")
    if limit.isdigit() and workers > int(limit):
        raise ValueError(
            f"workers={workers} is more than the stack allows "
            f"(kfstack:training.maxWorkers: {limit}, on ClusterTrainingRuntime {RUNTIME})"
        )


def runtime(max_workers: int) -> dict[str, Any]:
    """The `kfstack-tensorflow` ClusterTrainingRuntime: one indexed Job of worker pods.

    The TrainJob gives the image, command, environment and node count; the runtime only
    shapes the JobSet: the replicated job `node` (the Trainer's trainer step), pods that
    fail are not restarted (a lost worker ends the run, as locally). The stack's
    `max_workers` is in its `MAX_WORKERS` annotation.
    """
    return {
        "apiVersion": TRAINJOB.api_version,
        "kind": "ClusterTrainingRuntime",
        "metadata": {
            "name": RUNTIME,
            "labels": {"trainer.kubeflow.org/framework": "tensorflow"},
            "annotations": {MAX_WORKERS: str(max_workers)},
        },
        "spec": {
            "mlPolicy": {"numNodes": 1},
            "template": {
                "spec": {
                    "replicatedJobs": [
                        {
                            "name": REPLICATED_JOB,
                            "template": {
                                "metadata": {
                                    "labels": {
                                        "trainer.kubeflow.org/trainjob-ancestor-step": "trainer"
                                    }
                                },
                                "spec": {
                                    "backoffLimit": 0,
                                    "template": {
                                        "spec": {
                                            "restartPolicy": "Never",
                                            "containers": [
                                                {
                                                    "name": REPLICATED_JOB,
                                                    "image": "kfstack-component-image",
                                                    "ports": [{"containerPort": PORT}],
                                                }
                                            ],
                                        }
                                    },
                                },
                            },
                        }
                    ]
                }
            },
        },
    }
