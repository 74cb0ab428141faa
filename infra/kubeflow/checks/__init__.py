"""Checks on the final objects, each `manifests, settings -> findings`, listed in `CHECKS`.

A check never changes an object; an error finding stops `pulumi up` (see `gate.py`),
unless the release's allowed-exceptions table (`allowed.py`) names it with a reason.
To add a policy, write a module with a `check` function and list it here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from infra.kubeflow.checks import admission, exposure, mesh, pod_security, policy, rbac, schema
from infra.kubeflow.checks.allowed import allow
from infra.kubeflow.objects import Finding, Manifest
from infra.kubeflow.settings import KubeflowSettings

Check = Callable[[Sequence[Manifest], KubeflowSettings], list[Finding]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("policy", policy.check),  # default credentials, secret tokens and where they sit
    ("pod-security", pod_security.check),  # privileged pods (any shape), namespace labels
    ("rbac", rbac.check),  # escalating roles, who they are bound to, long-lived tokens
    ("admission", admission.check),  # webhooks that leave the cluster or see Secrets
    ("mesh", mesh.check),  # Istio policies that open the deny-by-default mesh
    ("exposure", exposure.check),  # Services around the gateway, host volumes
    ("schema", schema.check),  # Kubernetes schemas and the plan's CRD schemas
)


def run_checks(
    manifests: Sequence[Manifest],
    settings: KubeflowSettings,
    checks: tuple[tuple[str, Check], ...] = CHECKS,
    *,
    prevalidated: schema.Prevalidated | None = None,
    known: Mapping[str, Sequence[Finding]] | None = None,
) -> dict[str, list[Finding]]:
    """Return the findings of every check by its name, each list in object order.

    `prevalidated` holds schema findings of objects validated while the release rendered;
    `known` the findings of checks already run on these same objects (a cached plan's
    schema findings), used instead of running them again.
    """
    found: dict[str, list[Finding]] = {}
    for name, check in checks:
        if known is not None and name in known:
            found[name] = list(known[name])
        elif check is schema.check:
            found[name] = schema.check(manifests, settings, prevalidated=prevalidated)
        else:
            found[name] = allow(check(manifests, settings), settings.release or "")
    return found
