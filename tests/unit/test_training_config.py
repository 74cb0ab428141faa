"""`kfstack:training`: validated against the release, and what it adds to the plan."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from infra.config import kubeflow_settings, parse_settings
from infra.config_model import StackSettings
from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.transforms import training
from ml.workers.jobs import MAX_WORKERS, RUNTIME, allowed_workers
from tests.settings import REPO
from tests.settings import kubeflow_settings as core_settings

V110 = {"kubeflow": {"release": "v1.10.2"}, "cluster": {"kubernetesVersion": "1.33"}}


def test_no_training_by_default_and_nothing_added() -> None:
    settings = StackSettings(stack="t")
    assert settings.training.max_workers == 1 and settings.training_component is None
    assert kubeflow_settings(settings, base=REPO).training_workers == 1


@pytest.mark.parametrize(
    ("extra", "component"),
    [
        ({}, "trainer"),
        (V110, "training-operator"),
        ({"kubeflow": {"preset": "ml-core"}}, "trainer"),
    ],
)
def test_workers_add_the_release_s_training_component(
    extra: dict[str, object], component: str
) -> None:
    settings = StackSettings.model_validate({"stack": "t", "training": {"maxWorkers": 4}} | extra)
    assert settings.training_component == component
    core = kubeflow_settings(settings, base=REPO)
    assert component in core.components and core.training_workers == 4


def test_a_runtime_the_release_lacks_is_one_clear_error() -> None:
    raw = {"kfstack:training": '{"maxWorkers": 2, "runtime": "trainjob"}'}
    raw |= {
        "kfstack:kubeflow": '{"release": "v1.10.2"}',
        "kfstack:cluster": '{"kubernetesVersion": "1.33"}',
    }
    with pytest.raises(
        ValueError, match=re.escape("Kubeflow v1.10.2 has no trainer (its job kinds: tfjob)")
    ):
        parse_settings(raw, stack="t", require_secrets=False)
    with pytest.raises(ValidationError, match=r"maxWorkers|max_workers"):
        StackSettings.model_validate({"stack": "t", "training": {"maxWorkers": 0}})


def _crd(component: str) -> PlannedObject:
    manifest = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": training.RUNTIME_CRD},
    }
    return PlannedObject(ObjectKey.of(manifest), manifest, component)


def test_the_runtime_is_planned_with_the_trainer_only_when_asked() -> None:
    objects = (_crd("trainer"),)
    assert training.transform(objects, core_settings(training_workers=1)) == objects
    assert training.transform((), core_settings(training_workers=4)) == ()
    *_, added = training.transform(objects, core_settings(training_workers=4))
    assert (added.key.kind, added.key.name, added.component) == (
        "ClusterTrainingRuntime",
        RUNTIME,
        "trainer",
    )
    assert added.origin == "stack" and "kfstack:training" in added.reason
    # the stack's limit, where the step reads it
    assert added.manifest["metadata"]["annotations"] == {MAX_WORKERS: "4"}
    allowed_workers(added.manifest, 4)
    with pytest.raises(ValueError, match="workers=5 is more than the stack allows"):
        allowed_workers(added.manifest, 5)
