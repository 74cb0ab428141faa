"""Test mode `kwok`: a transform of TRANSFORMS run after the graph; stated in meta."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.settings import ManifestSource
from infra.kubeflow.transforms import TRANSFORMS, testmode
from infra.kubeflow.transforms.testmode import WEBHOOK_TIMEOUT_SECONDS, ignore_webhooks
from tests.settings import kubeflow_settings


def _obj(kind: str, name: str, **body: Any) -> PlannedObject:
    group = "admissionregistration.k8s.io" if "Webhook" in kind else ""
    manifest = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, **body}
    return PlannedObject(key=ObjectKey(group, kind, "", name), manifest=manifest, component="c")


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


def test_the_transform_acts_only_in_test_mode() -> None:
    objects = (_obj("MutatingWebhookConfiguration", "m", webhooks=HOOKS), _obj("Pod", "p"))
    assert testmode.transform(objects, kubeflow_settings(test_mode=None)) is objects
    tested = testmode.transform(objects, kubeflow_settings(test_mode="kwok"))
    assert tested[0].manifest["webhooks"][1]["failurePolicy"] == "Ignore"
    assert tested[1] is objects[1]


def test_the_mode_is_stated_with_what_it_changed() -> None:
    objects = (_obj("MutatingWebhookConfiguration", "m", webhooks=HOOKS), _obj("Pod", "p"))
    kwok = kubeflow_settings(test_mode="kwok")
    note = testmode.stated(kwok, objects, testmode.transform(objects, kwok))["test_mode"]
    assert note.startswith("kwok: 1 webhook configurations set to failurePolicy Ignore")
    assert testmode.stated(kubeflow_settings(test_mode=None), objects, objects) == {}


def test_testmode_is_listed_in_transforms_and_runs_after_the_graph() -> None:
    steps = {step.name: step for step in TRANSFORMS}
    assert steps["testmode"].after_graph
    assert [s.name for s in TRANSFORMS if not s.after_graph][-1] == "readiness"


def test_the_plan_keeps_the_edges_of_the_real_webhooks(
    kubeflow_manifests: Path, tmp_path: Path
) -> None:
    """The graph is computed before the webhooks fail open: their edges stay."""
    settings = kubeflow_settings(
        preset=None,
        components=("cert-manager",),
        cluster_kind="existing",
        source=ManifestSource(path=kubeflow_manifests),
    )
    real = build_plan(settings, cache_dir=tmp_path)
    tested = build_plan(replace(settings, test_mode="kwok"), cache_dir=tmp_path)
    assert tested.edges == real.edges and tested.waves == real.waves
    assert tested.findings == real.findings
    assert "webhook configurations set to failurePolicy Ignore" in tested.meta["test_mode"]
    assert "test_mode" not in real.meta
    hooks = [o for o in tested.objects if "webhooks" in o.manifest]
    assert hooks and all(
        h["failurePolicy"] == "Ignore" for o in hooks for h in o.manifest["webhooks"]
    )


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="allowed: kwok"):
        testmode.transform((_obj("Pod", "p"),), kubeflow_settings(test_mode="minikube"))
