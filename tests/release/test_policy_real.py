"""The policy on the real releases: every stack plans with 0 errors, each exception has a reason.

Also: every PodSpec- and Container-typed field the releases' CRDs declare is checked by the
pod security rules, even when what it holds does not look like a pod.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.config import kubeflow_settings_from_stack_file
from infra.kubeflow.checks.allowed import allowed_exceptions
from infra.kubeflow.checks.pod_security import check_pod_security
from infra.kubeflow.checks.pod_shapes import crd_pod_fields
from infra.kubeflow.core import build_plan
from infra.kubeflow.crds import crds_of
from infra.kubeflow.errors import RenderError
from infra.kubeflow.objects import Finding, InstallPlan, ObjectKey
from infra.kubeflow.settings import ManifestSource
from tests.release.conftest import KUBERNETES, FullPlan
from tests.settings import REPO

RELEASES = ("26.03", "v1.10.2")
STACKS = ("dev", "staging", "prod")
# v1.10.2's own GKE overlay of Istio does not build (the 1.10 component table says why).
BROKEN = {("v1.10.2", "staging")}
PLANNED = [(r, s) for r in RELEASES for s in STACKS if (r, s) not in BROKEN]


@pytest.fixture(scope="session")
def stack_plans(
    shared_releases: dict[str, Path], release_plans: Callable[[str], FullPlan]
) -> Callable[[str, str], InstallPlan]:
    """Plan a shipped stack file of a release; renders shared with the full plans' cache."""
    cache = release_plans("26.03").cache_dir

    @functools.cache
    def plan(release: str, stack: str) -> InstallPlan:
        settings = kubeflow_settings_from_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
        settings = replace(
            settings,
            release=release,
            source=ManifestSource(path=shared_releases[release]),
            kubernetes_version=KUBERNETES[release],
        )
        return build_plan(settings, cache_dir=cache)

    return plan


@pytest.mark.parametrize(("release", "stack"), PLANNED)
def test_every_stack_plans_with_no_error(
    stack_plans: Callable[[str, str], InstallPlan], release: str, stack: str
) -> None:
    plan = stack_plans(release, stack)
    assert [str(f) for f in plan.errors] == []
    allowed = [f for f in plan.findings if f.severity == "allowed"]
    assert allowed, "the releases' own exceptions are listed in the plan"
    assert all(" -- allowed: " in f.message for f in allowed)


def test_the_broken_gke_overlay_of_v1_10_2_fails_with_kustomizes_error(
    stack_plans: Callable[[str, str], InstallPlan],
) -> None:
    with pytest.raises(RenderError, match="istio-install/overlays/gke"):
        stack_plans("v1.10.2", "staging")


def test_every_allowed_exception_is_needed(
    stack_plans: Callable[[str, str], InstallPlan],
) -> None:
    """An entry no shipped release raises any more must go (no stale exception)."""
    found: list[tuple[str, Finding]] = [
        (release, f)
        for release, stack in PLANNED
        for f in stack_plans(release, stack).findings
        if f.severity == "allowed" and f.rule != "policy.pod-security"
    ]
    for entry in allowed_exceptions():
        used = [
            (r, f)
            for r, f in found
            if f.rule == entry.rule
            and f.key is not None
            and entry.match.matches(f.key)
            and entry.reason in f.message
            and (entry.releases is None or r in entry.releases)
        ]
        assert used, f"no release needs {entry.rule} {entry.match}"


def test_no_webhook_comes_before_what_serves_it(
    stack_plans: Callable[[str, str], InstallPlan],
) -> None:
    plan = stack_plans("26.03", "prod")
    configs = [o.key for o in plan.objects if o.key.kind.endswith("WebhookConfiguration")]
    assert configs
    first = set(plan.waves[0])
    for key in configs:
        assert key not in first
        assert any(dep.kind == "Service" for dep in plan.edges[key]), key


def _at(path: str, leaf: dict[str, Any]) -> dict[str, Any]:
    """Build the object fragment that holds `leaf` at a schema path (`a.b[].c.*`)."""
    node: Any = leaf
    for part in reversed(path.replace("[]", ".[]").split(".")):
        if part == "[]":
            node = [node]
        elif part == "*":
            node = {"anything": node}
        elif part:
            node = {part: node}
    assert isinstance(node, dict)
    return node


# Leaves only the schema tells apart from plain data: no image, no container list.
LEAVES = {
    "pod": {"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
    "container": {"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]},
}
WHAT = {"pod": "unsafe sysctl", "container": "hostPort 80"}


@pytest.mark.parametrize("release", RELEASES)
def test_every_pod_field_the_crds_declare_is_checked(
    release_plans: Callable[[str], FullPlan], release: str
) -> None:
    manifests = [o.manifest for o in release_plans(release).plan.objects]
    crds = crds_of(manifests)
    declared = {key: crd_pod_fields(crd) for key, crd in crds.items()}
    declared = {key: fields for key, fields in declared.items() if fields}
    assert len(declared) >= 10  # InferenceService, Notebook, TrainJob/TFJob, Workflow ...
    for (group, kind), fields in declared.items():
        crd_manifest = next(m for m in manifests if ObjectKey.of(m) == crds[(group, kind)].key)
        version = sorted(crds[(group, kind)].served)[0]
        for path, role in fields.items():
            body = _at(path, LEAVES[role])
            obj = {
                "apiVersion": f"{group}/{version}",
                "kind": kind,
                "metadata": {"name": "probe", "namespace": "kubeflow"},
                **body,
            }
            findings = check_pod_security([crd_manifest, obj])
            assert any(WHAT[role] in f.message for f in findings), (kind, path, role)
