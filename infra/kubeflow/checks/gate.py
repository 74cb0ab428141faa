"""The gate between plan and deployment: a plan with error findings deploys nothing."""

from __future__ import annotations

from infra.kubeflow.errors import PlanError
from infra.kubeflow.objects import InstallPlan

MAX_SHOWN = 40


class PlanRejectedError(PlanError):
    """The plan has error findings (policy or schema); nothing is registered."""


def require_clean(plan: InstallPlan) -> InstallPlan:
    """Return `plan` if it has no error finding.

    Raises:
        PlanRejectedError: listing the error findings (the first MAX_SHOWN of them).
    """
    errors = plan.errors
    if not errors:
        return plan
    shown = [str(finding) for finding in errors[:MAX_SHOWN]]
    more = len(errors) - len(shown)
    hint = (
        f"... and {more} more; run `kfstack plan` to see them all"
        if more
        else ("run `kfstack plan` for the whole report")
    )
    problems = [f"the install plan has {len(errors)} error finding(s):", *shown]
    raise PlanRejectedError(problems, hint=hint)
