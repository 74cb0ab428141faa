"""A fake Trainer for the engine tier that runs a training job's pods for real.

Under kwok no controller of the release runs. `FakeTrainer` plays the Trainer's controller
(TrainJob -> JobSet -> one indexed Job of `numNodes` pods) and the kubelet, from outside with
kubectl and `tests.engine.pods`. Each kfstack job is taken once, and `outcome` ("run" unless
the test says otherwise) says what happens to it:

- "run": its worker pods run: the job's own command and environment, each `secretKeyRef`
  resolved from the Secret in the API server, `JOB_COMPLETION_INDEX` as an indexed Job sets
  it. The job ends `Complete` when every worker exits 0, else `Failed` naming the worker, with
  JobSet's reasons (`AllJobsCompleted`, `FailedJobs`);
- "fail": it fails at once, as when a worker pod cannot start.

A TrainJob must name a ClusterTrainingRuntime that exists, or it fails as the Trainer fails it.
The conditions are written through the status subresource, so the CRD's schema checks them.

Not a cluster: the workers share the plane's one network namespace, so the fake gives each a
free loopback port in TF_CONFIG (as the Training Operator writes TF_CONFIG into a TFJob's
pods). On the Trainer the pods build TF_CONFIG from the JobSet's host names
(`ml.workers.cluster.jobset_tf_config`, unit-tested), which needs a pod network.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.workers.cluster import INDEX_ENV, REPLICATED_JOB, TF_CONFIG, free_ports, tf_config
from ml.workers.jobs import TRAINJOB
from tests.engine.fakes import FakeController
from tests.engine.harness import ControlPlane
from tests.engine.pods import Pod, start_pod

MANAGED = ("app.kubernetes.io/managed-by", "kfstack")
#: JobSet's reasons for the conditions that end a TrainJob.
COMPLETED = ("AllJobsCompleted", "jobset completed successfully")
FAILED = "FailedJobs"


@dataclass(frozen=True)
class WorkerPod:
    """One worker pod of a job: its name, command and resolved environment."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]


def resolve_env(entries: list[dict[str, Any]], secrets: Mapping[str, Mapping[str, str]]) -> dict:
    """A container's `env` as the kubelet resolves it (values and Secret keys)."""
    out = {}
    for entry in entries:
        if "value" in entry:
            out[entry["name"]] = str(entry["value"])
            continue
        ref = entry["valueFrom"]["secretKeyRef"]
        data = secrets[ref["name"]]
        out[entry["name"]] = base64.b64decode(data[ref["key"]]).decode()
    return out


def worker_pods(
    job: Mapping[str, Any], secrets: Mapping[str, Mapping[str, str]], addresses: list[str]
) -> list[WorkerPod]:
    """The worker pods of a TrainJob, TF_CONFIG pointing at `addresses`."""
    name, container = job["metadata"]["name"], job["spec"]["trainer"]
    count = int(container["numNodes"])
    names = [f"{name}-{REPLICATED_JOB}-0-{i}" for i in range(count)]
    if len(addresses) != count:
        raise ValueError(f"{count} workers, {len(addresses)} addresses")
    argv = (*container.get("command", ()), *container.get("args", ()))
    env = resolve_env(container.get("env", []), secrets)
    return [
        WorkerPod(
            names[i],
            argv,
            {**env, INDEX_ENV: str(i), TF_CONFIG: json.dumps(tf_config(addresses, i))},
        )
        for i in range(count)
    ]


def condition(kind: str, reason: str, message: str) -> dict[str, Any]:
    """A True condition as the Trainer writes it (a metav1.Condition)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = {"type": kind, "status": "True", "reason": reason, "message": message}
    return out | {"lastTransitionTime": now}


class FakeTrainer(FakeController):
    """Run kfstack's TrainJobs (see the module's text)."""

    def __init__(
        self,
        plane: ControlPlane,
        env: Mapping[str, str],
        scratch: Path,
        hosts: Mapping[str, str],
        interval: float = 2.0,
    ):
        super().__init__(plane, env, interval)
        self.scratch, self.hosts = scratch, dict(hosts)
        self.outcome = "run"
        self.taken: list[str] = []
        self.errors: list[str] = []  # what went wrong in the fake itself
        self.running: dict[tuple[str, str], list[tuple[WorkerPod, subprocess.Popen[bytes]]]] = {}

    def step(self) -> None:
        """One pass: take new jobs, then end those whose workers have all exited."""
        for job in self._list(TRAINJOB.plural + "." + TRAINJOB.group):
            meta = job["metadata"]
            if (meta.get("labels") or {}).get(MANAGED[0]) != MANAGED[1]:
                continue
            if meta["name"] not in self.taken:
                self.taken.append(meta["name"])
                try:
                    self._take(job)
                except (RuntimeError, ValueError, KeyError) as error:
                    self.errors.append(f"{meta['name']}: {error!r}")
        for where, pods in list(self.running.items()):
            codes = [process.poll() for _, process in pods]
            failed = [(pod, code) for (pod, _), code in zip(pods, codes, strict=True) if code]
            if failed:
                for _, process in pods:
                    process.kill()
                pod, code = failed[0]
                self._end(*where, "Failed", FAILED, f"pod {pod.name} exited with status {code}")
            elif all(code == 0 for code in codes):
                self._end(*where, "Complete", *COMPLETED)
            else:
                continue
            del self.running[where]

    def _take(self, job: dict[str, Any]) -> None:
        namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
        runtime = job["spec"]["runtimeRef"]["name"]
        if self.plane.kubectl("get", "clustertrainingruntime", runtime, env=self.env).returncode:
            self._end(namespace, name, "Failed", "TrainingRuntimeNotFound", f"{runtime} not found")
            return
        if self.outcome == "fail":
            message = f"jobset failed: pod {name}-{REPLICATED_JOB}-0-1 was not started"
            self._end(namespace, name, "Failed", FAILED, message)
            return
        secret = self.plane.kubectl_json("get", "secrets", "-n", namespace, env=self.env)
        secrets = {s["metadata"]["name"]: s.get("data") or {} for s in secret["items"]}
        count = int(job["spec"]["trainer"]["numNodes"])
        addresses = [f"127.0.0.1:{port}" for port in free_ports(count)]
        pods = []
        for worker in worker_pods(job, secrets, addresses):
            pod = Pod(worker.name, namespace, env=worker.env, hosts=self.hosts)
            log = self.scratch / f"{worker.name}.log"
            process = start_pod(self.plane, pod, worker.argv, scratch=self.scratch, log=log)
            pods.append((worker, process))
        self.running[(namespace, name)] = pods

    def _end(self, namespace: str, name: str, kind: str, reason: str, message: str) -> None:
        status = {"status": {"conditions": [condition(kind, reason, message)]}}
        result = self.plane.kubectl(
            "patch", f"{TRAINJOB.plural}.{TRAINJOB.group}", name, "-n", namespace,
            "--subresource=status", "--type=merge", "-p", json.dumps(status), env=self.env,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"status of {name}: {result.stderr}")

    def stop(self) -> None:
        """Stop the loop and any worker still running."""
        super().stop()
        for pods in self.running.values():
            for _, process in pods:
                process.kill()


@contextmanager
def fake_trainer(
    plane: ControlPlane, env: Mapping[str, str], scratch: Path, hosts: Mapping[str, str]
) -> Iterator[FakeTrainer]:
    """Run the fake Trainer in a background thread for the block."""
    trainer = FakeTrainer(plane, env, scratch, hosts)
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    try:
        yield trainer
    finally:
        trainer.stop()
        thread.join(timeout=60)
