"""Test mode `kwok`: the plan for a control plane whose pods never run (the engine tier).

Under kwok, pods are marked Running and Ready but no container runs, and Service and pod IPs
lead nowhere. An admission webhook then cannot answer, so with its release failurePolicy
(`Fail`) every object it intercepts would be refused. This transform sets each webhook of
the plan to `failurePolicy: Ignore` with a 1-second timeout, and states what it changed in
the plan's `meta["test_mode"]`.

It runs after the install graph is computed, so the plan keeps the edges and readiness
waits of the real release: objects still wait for the webhook's workload to be ready.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from infra.kubeflow.graph.webhooks import WEBHOOK_KINDS
from infra.kubeflow.objects import InstallPlan, PlannedObject

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


def apply_test_mode(plan: InstallPlan, mode: str | None) -> InstallPlan:
    """Return `plan` adapted to `mode` (None: unchanged), the change stated in `meta`.

    Raises:
        ValueError: an unknown mode (allowed: those in TEST_MODES).

    """
    if mode is None:
        return plan
    if mode not in TEST_MODES:
        raise ValueError(f"unknown test mode {mode!r}; allowed: {', '.join(TEST_MODES)}")
    objects, changed = ignore_webhooks(plan.objects)
    note = (
        f"{mode}: {changed} webhook configurations set to failurePolicy Ignore, "
        f"timeoutSeconds {WEBHOOK_TIMEOUT_SECONDS} (their pods cannot run); edges unchanged"
    )
    return replace(plan, objects=objects, meta={**plan.meta, "test_mode": note})
