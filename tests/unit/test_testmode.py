"""Test mode `kwok`: webhooks fail open, the graph of the real plan is kept, stated in meta."""

from __future__ import annotations

from typing import Any

import pytest

from infra.kubeflow.objects import InstallPlan, ObjectKey, PlannedObject
from infra.kubeflow.transforms.testmode import (
    WEBHOOK_TIMEOUT_SECONDS,
    apply_test_mode,
    ignore_webhooks,
)


def _obj(kind: str, name: str, **body: Any) -> PlannedObject:
    group = "admissionregistration.k8s.io" if "Webhook" in kind else ""
    manifest = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, **body}
    return PlannedObject(key=ObjectKey(group, kind, "", name), manifest=manifest, component="c")


def _plan(*objects: PlannedObject) -> InstallPlan:
    keys = [o.key for o in objects]
    edges = {keys[-1]: frozenset(keys[:-1])}
    return InstallPlan(
        release="26.03",
        components=("c",),
        objects=objects,
        edges=edges,
        waves=(tuple(keys),),
        critical_path=tuple(keys),
        meta={"derived_secrets": ()},
    )


HOOKS = [{"name": "a.example.com"}, {"name": "b.example.com", "failurePolicy": "Fail"}]


def test_every_webhook_fails_open_with_a_short_timeout() -> None:
    mutating = _obj("MutatingWebhookConfiguration", "m", webhooks=HOOKS)
    validating = _obj("ValidatingWebhookConfiguration", "v", webhooks=[{"name": "c"}])
    objects, changed = ignore_webhooks([mutating, validating, _obj("ConfigMap", "cm")])
    assert changed == 2
    for obj in objects[:2]:
        for hook in obj.manifest["webhooks"]:
            assert hook["failurePolicy"] == "Ignore"
            assert hook["timeoutSeconds"] == WEBHOOK_TIMEOUT_SECONDS
    assert "failurePolicy" not in HOOKS[0]  # input is never mutated
    assert objects[2].manifest is not None and objects[2] is not mutating


def test_other_objects_pass_through_unchanged() -> None:
    cm = _obj("ConfigMap", "cm", data={"webhooks": "x"})
    objects, changed = ignore_webhooks([cm])
    assert changed == 0
    assert objects[0] is cm


def test_the_plan_keeps_its_edges_and_states_the_mode() -> None:
    plan = _plan(_obj("MutatingWebhookConfiguration", "m", webhooks=HOOKS), _obj("Pod", "p"))
    tested = apply_test_mode(plan, "kwok")
    assert tested.edges == plan.edges
    assert tested.waves == plan.waves
    assert "1 webhook configurations set to failurePolicy Ignore" in tested.meta["test_mode"]
    assert tested.meta["derived_secrets"] == ()


def test_no_mode_returns_the_plan_itself() -> None:
    plan = _plan(_obj("Pod", "p"))
    assert apply_test_mode(plan, None) is plan


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: kwok"):
        apply_test_mode(_plan(_obj("Pod", "p")), "minikube")
