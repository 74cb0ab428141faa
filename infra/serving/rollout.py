"""Is the InferenceService rolled out, still rolling out, or failed, and why (pure).

The provider's `pulumi.com/waitFor: condition=Ready` waits for Ready=True and, when the
rollout fails, only times out with "Ready=False (want True)". KServe says more: a model
that cannot load sets `status.modelStatus.transitionStatus` to `BlockedByFailedLoad` (or
`InvalidSpec`) with `lastFailureInfo` {reason, message}; the Ready condition carries a
reason and message too. This module reads that, so `pulumi up` fails as soon as KServe
reports a terminal failure, with KServe's own words.

An update is only judged once the cluster holds this deployment's spec (the digest
annotation matches) and KServe has observed it (observedGeneration == generation); until
then the status may still describe the previous spec.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from infra.config_types import duration_seconds

DIGEST_ANNOTATION = "kfstack.io/spec-digest"
TERMINAL = ("BlockedByFailedLoad", "InvalidSpec")


class RolloutError(RuntimeError):
    """The InferenceService failed to roll out, or did not become Ready in time."""


@dataclass(frozen=True)
class Rollout:
    """Where a rollout stands: `ready`, `failed` (terminal) or `waiting`, and why."""

    state: Literal["ready", "failed", "waiting"]
    detail: str


def spec_digest(manifest: Mapping[str, Any]) -> str:
    """A digest of what the stack asks for (spec and labels), stable across runs."""
    body = {"spec": manifest.get("spec"), "labels": manifest.get("metadata", {}).get("labels")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def seconds(duration: str) -> int:
    """`90s`, `15m`, `1h` -> seconds (the form `serving.readyTimeout` allows).

    Raises:
        ValueError: another form.
    """
    return duration_seconds(duration)


def _ready_condition(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or []:
        if str(condition.get("type", "")).lower() == "ready":
            return dict(condition)
    return None


def _said(reason: object, message: object) -> str:
    return ": ".join(str(p) for p in (reason, message) if p) or "no reason given"


def rollout(obj: Mapping[str, Any] | None, digest: str) -> Rollout:
    """Judge one observation of the InferenceService against the spec `digest`."""
    if obj is None:
        return Rollout("waiting", "not created yet")
    metadata = obj.get("metadata") or {}
    if (metadata.get("annotations") or {}).get(DIGEST_ANNOTATION) != digest:
        return Rollout("waiting", "this spec is not applied yet")
    status = obj.get("status") or {}
    generation, observed = metadata.get("generation"), status.get("observedGeneration")
    if generation is not None and (observed is None or observed < generation):
        return Rollout("waiting", f"KServe has not observed generation {generation} yet")
    return _judge_status(status)


def _judge_status(status: Mapping[str, Any]) -> Rollout:
    model = status.get("modelStatus") or {}
    if model.get("transitionStatus") in TERMINAL:
        failure = model.get("lastFailureInfo") or {}
        said = _said(failure.get("reason"), failure.get("message"))
        return Rollout("failed", f"{model['transitionStatus']} ({said})")
    ready = _ready_condition(status)
    if ready is None:
        return Rollout("waiting", "no Ready condition yet")
    if str(ready.get("status")) == "True":
        return Rollout("ready", "Ready")
    return Rollout(
        "waiting",
        f"Ready={ready.get('status')} ({_said(ready.get('reason'), ready.get('message'))})",
    )


def await_rollout(
    fetch: Callable[[], Mapping[str, Any] | None],
    digest: str,
    *,
    what: str,
    timeout_s: int,
    poll_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll until Ready; raise at a terminal failure or at the timeout, in KServe's words.

    Raises:
        RolloutError: names `what` and KServe's reason.
    """
    deadline = clock() + timeout_s
    while True:
        seen = rollout(fetch(), digest)
        if seen.state == "ready":
            return
        if seen.state == "failed":
            raise RolloutError(f"{what} failed to roll out: {seen.detail}")
        if clock() >= deadline:
            raise RolloutError(
                f"{what} is not Ready after {timeout_s}s (kfstack:serving.readyTimeout): "
                f"{seen.detail}"
            )
        sleep(poll_s)
