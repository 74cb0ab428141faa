"""Who is who in a multi-worker run: TF_CONFIG, the worker's place, its batch and its steps.

TensorFlow's `MultiWorkerMirroredStrategy` learns the cluster from the `TF_CONFIG` variable
(`{"cluster": {"worker": [host:port, ...]}, "task": {"type": "worker", "index": i}}`); worker 0
is the chief. Locally the launcher writes it for N processes on loopback; on a cluster the
Training Operator (TFJob) writes it into every pod.

Collective ops need every worker to run the same number of steps: a worker that ran out of
rows would leave the others waiting in an all-reduce forever. So each worker repeats its own
shards without end and every worker runs the step counts computed here from schema.json,
which all of them read alike (`steps`).
"""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ml.data.schema import ShardInfo

__all__ = ["Place", "Steps", "free_ports", "jobset_tf_config", "place", "steps", "tf_config"]

#: The environment variable TensorFlow reads the cluster from.
TF_CONFIG = "TF_CONFIG"
#: On the Trainer (no TensorFlow policy): the TrainJob's name and its number of workers; the
#: pod's index is the Job's `JOB_COMPLETION_INDEX` (`jobset_tf_config`).
JOB_ENV, WORKERS_ENV, INDEX_ENV = "KFSTACK_JOB", "KFSTACK_WORKERS", "JOB_COMPLETION_INDEX"
#: The replicated job of kfstack's ClusterTrainingRuntime, and the workers' port.
REPLICATED_JOB, PORT = "node", 2222


@dataclass(frozen=True)
class Place:
    """A worker's place in its run: its index (0 is the chief) and the number of workers."""

    index: int
    workers: int

    @property
    def chief(self) -> bool:
        """Worker 0 exports the model and reports progress."""
        return self.index == 0


@dataclass(frozen=True)
class Steps:
    """What every worker of a run does per epoch: the same numbers on each of them.

    Attributes:
        batch: Rows per step on each worker (the global batch / workers, rounded up).
        train: Training steps per epoch.
        validation: Validation steps per epoch (0: no validation rows).

    """

    batch: int
    train: int
    validation: int


def tf_config(addresses: Sequence[str], index: int) -> dict[str, object]:
    """The TF_CONFIG of worker `index` of a cluster of `addresses` (host:port each)."""
    if not 0 <= index < len(addresses):
        raise ValueError(f"worker index {index} is not in 0..{len(addresses) - 1}")
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}}


def jobset_tf_config(environ: Mapping[str, str]) -> dict[str, object] | None:
    """TF_CONFIG of a pod of kfstack's TrainJob, from its JobSet's stable host names.

    JobSet names pod i of the one Job of replicated job `node` `<job>-node-0-<i>`, in the
    subdomain `<job>`; None when the pod is not one (no `KFSTACK_JOB`) or has TF_CONFIG.
    """
    job = environ.get(JOB_ENV, "").strip()
    if not job or environ.get(TF_CONFIG, "").strip():
        return None
    try:
        workers, index = int(environ[WORKERS_ENV]), int(environ[INDEX_ENV])
    except (KeyError, ValueError):
        raise ValueError(
            f"{JOB_ENV} is set but {WORKERS_ENV} or {INDEX_ENV} is missing or not a number"
        ) from None
    hosts = [f"{job}-{REPLICATED_JOB}-0-{i}.{job}:{PORT}" for i in range(workers)]
    return tf_config(hosts, index)


def place(environ: Mapping[str, str]) -> Place:
    """The worker's place from TF_CONFIG in `environ`; no TF_CONFIG is one worker alone.

    Raises:
        ValueError: TF_CONFIG is not JSON of that shape, or its task is not a worker.

    """
    text = environ.get(TF_CONFIG, "").strip()
    if not text:
        return Place(0, 1)
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{TF_CONFIG} is not a cluster with workers and a task: {error}") from None
    extra = sorted(set(config["cluster"]) - {"worker", "chief"})
    if task.get("type") != "worker" or extra or "chief" in config["cluster"]:
        raise ValueError(
            f"{TF_CONFIG}: only 'worker' tasks are supported (worker 0 is the chief), "
            f"got task {task.get('type')!r} in a cluster of {sorted(config['cluster'])}"
        )
    if not 0 <= index < len(workers):
        raise ValueError(f"{TF_CONFIG}: task index {index} is not in 0..{len(workers) - 1}")
    return Place(index, len(workers))


def steps(
    *,
    batch_size: int,
    train_steps: int,
    validation: Sequence[Sequence[ShardInfo]],
) -> Steps:
    """The per-worker batch and the step counts every worker runs.

    Args:
        batch_size: The global batch (what one worker alone would use).
        train_steps: Training steps per epoch of the single-worker plan (passes included).
        validation: The validation shards of each worker.

    The global batch is split over the workers, so an epoch takes as many steps as on one
    worker; validation takes as many steps as the worker with the most validation rows needs
    to see them all (the others go round their shards again).
    """
    workers = max(len(validation), 1)
    batch = math.ceil(batch_size / workers)
    rows = [sum(s.rows for s in shards) for shards in validation]
    return Steps(batch=batch, train=train_steps, validation=math.ceil(max(rows, default=0) / batch))


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct TCP ports free on `host` now (held open until all are chosen)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()
