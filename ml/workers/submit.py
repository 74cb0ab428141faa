"""Submit a training job to the API server, follow it to its end, say how it went.

`follow` creates the job (TrainJob or TFJob, `ml.workers.jobs`) in the run's namespace and
reads it back every `poll` seconds until a terminal condition: `Complete` (TrainJob) or
`Succeeded` (TFJob) is success, `Failed` is failure (with the controller's reason and
message). Each new condition is reported as it appears. A job that does not end within
`timeout` is deleted and reported as failed. The API is any object with the
`CustomObjectsApi` methods used here, so the pure part is tested without a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ml.workers.jobs import JobKind

__all__ = ["JobFailed", "JobState", "follow", "job_state"]

#: Condition types that end a job well (TrainJob, TFJob) and badly.
SUCCEEDED, FAILED = frozenset({"Complete", "Succeeded"}), frozenset({"Failed"})


class CustomObjects(Protocol):
    """The part of kubernetes' CustomObjectsApi `follow` uses."""

    def create_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, body: Any
    ) -> Any:
        """Create the object."""

    def get_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> Any:
        """Read the object."""

    def delete_namespaced_custom_object(
        self, group: str, version: str, namespace: str, plural: str, name: str
    ) -> Any:
        """Delete the object."""


@dataclass(frozen=True)
class JobState:
    """Where a job is: running, succeeded or failed, and the condition that says so."""

    phase: Literal["running", "succeeded", "failed"]
    conditions: tuple[str, ...]
    message: str = ""


class JobFailed(RuntimeError):
    """The training job failed, or did not end in time; the message says why."""


def job_state(job: Mapping[str, Any]) -> JobState:
    """The state of a job object from its `status.conditions` (True ones only)."""
    conditions = [
        c for c in (job.get("status") or {}).get("conditions") or () if c.get("status") == "True"
    ]
    names = tuple(str(c.get("type")) for c in conditions)
    for condition in conditions:
        kind = condition.get("type")
        if kind in FAILED or kind in SUCCEEDED:
            reason = str(condition.get("reason") or "")
            message = str(condition.get("message") or "")
            text = f"{reason}: {message}".strip(": ")
            return JobState("failed" if kind in FAILED else "succeeded", names, text)
    return JobState("running", names)


def follow(
    api: CustomObjects,
    kind: JobKind,
    manifest: Mapping[str, Any],
    *,
    report: Callable[[str], None] = print,
    poll: float = 10.0,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> JobState:
    """Create the job, report its conditions as they appear, return when it succeeded.

    Raises:
        JobFailed: the job failed (its reason and message), or ran past `timeout` (it is
            deleted).

    """
    name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]
    where = (kind.group, kind.version, namespace, kind.plural)
    api.create_namespaced_custom_object(*where, manifest)
    report(f"{kind.kind} {namespace}/{name} created")
    started = clock()
    seen: tuple[str, ...] | None = None
    while True:
        state = job_state(api.get_namespaced_custom_object(*where, name))
        if state.conditions != seen:
            report(f"{kind.kind} {name}: {', '.join(state.conditions) or 'pending'}")
            seen = state.conditions
        if state.phase == "succeeded":
            return state
        if state.phase == "failed":
            raise JobFailed(
                f"{kind.kind} {namespace}/{name} failed: {state.message or 'no reason'}"
            )
        if timeout is not None and clock() - started > timeout:
            api.delete_namespaced_custom_object(*where, name)
            raise JobFailed(
                f"{kind.kind} {namespace}/{name} did not end within {timeout:.0f} s; deleted"
            )
        sleep(poll)
