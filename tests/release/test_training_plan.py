"""ml-core with `kfstack:training`: the Trainer and kfstack's runtime in the plan, clean."""

from __future__ import annotations

from pathlib import Path

from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import ObjectKey
from ml.workers.jobs import RUNTIME
from tests.release.conftest import FullPlan
from tests.settings import full_settings


def test_ml_core_with_workers_plans_the_trainer_and_its_runtime(
    full_plan: FullPlan, kubeflow_manifests: Path
) -> None:
    settings = full_settings(
        kubeflow_manifests, preset="ml-core", components=("trainer",), training_workers=4
    )
    plan = build_plan(settings, cache_dir=full_plan.cache_dir)
    assert "trainer" in plan.components
    runtime = ObjectKey("trainer.kubeflow.org", "ClusterTrainingRuntime", "", RUNTIME)
    (planned,) = [o for o in plan.objects if o.key == runtime]
    assert planned.origin == "stack"
    crd = ObjectKey(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "",
        "clustertrainingruntimes.trainer.kubeflow.org",
    )
    assert crd in plan.edges[runtime]  # installed after its CRD
    assert plan.errors == ()
    assert not [f for f in plan.findings if f.key == runtime]  # schema and policy: clean
