"""Checks on the final objects, each `manifests, settings -> findings`, listed in `CHECKS`.

A check never changes an object; an error finding stops `pulumi up` (see `gate.py`).
To add a policy, write a module with a `check` function and list it here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from infra.kubeflow.checks import pod_security, policy, schema
from infra.kubeflow.objects import Finding, Manifest
from infra.kubeflow.settings import KubeflowSettings

Check = Callable[[Sequence[Manifest], KubeflowSettings], list[Finding]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("policy", policy.check),  # default credentials, secret tokens and where they sit
    ("pod-security", pod_security.check),  # privileged pods, the allow list
    ("schema", schema.check),  # Kubernetes schemas and the plan's CRD schemas
)


def run_checks(
    manifests: Sequence[Manifest],
    settings: KubeflowSettings,
    checks: tuple[tuple[str, Check], ...] = CHECKS,
    *,
    prevalidated: schema.Prevalidated | None = None,
) -> list[Finding]:
    """Return the findings of every check, sorted (errors first, then by object).

    `prevalidated` holds schema findings of objects validated while the release rendered.
    """
    findings = []
    for _name, check in checks:
        if check is schema.check and prevalidated is not None:
            findings.extend(schema.check(manifests, settings, prevalidated=prevalidated))
        else:
            findings.extend(check(manifests, settings))
    findings.sort(key=lambda f: (f.severity, str(f.key or ""), f.rule, f.message))
    return findings
