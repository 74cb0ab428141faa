"""Test mode `kwok`: the plan for a control plane whose pods never run (the engine tier).

Under kwok, pods are marked Running and Ready but no container runs, and Service and pod IPs
lead nowhere. An admission webhook then cannot answer, so with its release failurePolicy
(`Fail`) every object it intercepts would be refused. This transform sets each webhook of
the plan to `failurePolicy: Ignore` with a 1-second timeout; `stated` says what it changed,
for the plan's `meta["test_mode"]`. Without `settings.test_mode` it changes nothing.

It runs after the install graph is computed (`after_graph` in `TRANSFORMS`), so the plan
keeps the edges and readiness waits of the real release: objects still wait for the
webhook's workload to be ready.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from infra.kubeflow.graph.webhooks import WEBHOOK_KINDS
from infra.kubeflow.objects import PlannedObject
from infra.kubeflow.settings import KubeflowSettings

TEST_MODES = ("kwok",)
WEBHOOK_TIMEOUT_SECONDS = 1


def ignore_webhooks(objects: Sequence[PlannedObject]) -> tuple[tuple[PlannedObject, ...], int]:
    """Return the objects with every admission webhook set to fail open, and how many changed.

    A changed webhook configuration is a deep copy; other objects are passed through.
    """
    out: list[PlannedObject] = []
    changed = 0
    for obj in objects:
        hooks = obj.manifest.get("webhooks") or []
        if obj.key.kind not in WEBHOOK_KINDS or not any(_fails_closed(h) for h in hooks):
            out.append(obj)
            continue
        manifest = copy.deepcopy(obj.manifest)
        for hook in manifest["webhooks"]:
            hook["failurePolicy"] = "Ignore"
            hook["timeoutSeconds"] = WEBHOOK_TIMEOUT_SECONDS
        out.append(replace(obj, manifest=manifest))
        changed += 1
    return tuple(out), changed


def _fails_closed(hook: dict[str, Any]) -> bool:
    policy = hook.get("failurePolicy") or "Fail"
    return policy == "Fail" or hook.get("timeoutSeconds") != WEBHOOK_TIMEOUT_SECONDS


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Return the objects for `settings.test_mode` (None: unchanged).

    Raises:
        ValueError: an unknown mode (allowed: those in TEST_MODES).

    """
    mode = settings.test_mode
    if mode is None:
        return objects
    if mode not in TEST_MODES:
        raise ValueError(f"unknown test mode {mode!r}; allowed: {', '.join(TEST_MODES)}")
    return ignore_webhooks(objects)[0]


def stated(
    settings: KubeflowSettings,
    before: Sequence[PlannedObject],
    after: Sequence[PlannedObject],
) -> dict[str, str]:
    """Return the plan's `meta` entry of the test mode: what `transform` changed (or none)."""
    if settings.test_mode is None:
        return {}
    changed = sum(old is not new for old, new in zip(before, after, strict=True))
    return {
        "test_mode": (
            f"{settings.test_mode}: {changed} webhook configurations set to failurePolicy "
            f"Ignore, timeoutSeconds {WEBHOOK_TIMEOUT_SECONDS} (their pods cannot run); "
            "edges unchanged"
        )
    }
