"""Everything the program reads before it registers a resource, read once and checked.

Bad input deploys nothing, and the CLI shows it as one error line: a `pulumi.RunError`
ends the program cleanly, where any other exception prints a traceback under "Program
failed with an unhandled exception" (what a user saw for a bad stack file).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.cluster.base import MissingExtraError
from infra.config import ConfigError, StackConfig, kubeflow_settings, load_stack_config
from infra.kubeconfig import KubeconfigError
from infra.kubeflow import CycleError, InstallPlan, PlanError, build_plan, require_clean
from infra.safe_yaml import UnsafeDocumentError
from infra.serving.inference import ServingError
from infra.serving.inputs import ServingInputs, load_serving_inputs
from infra.serving.pipeline import PipelinePackageError

#: The errors of bad input (stack config, sources, release record, pipeline package, a
#: missing extra): each names what is wrong and where, so its message alone is shown.
INPUT_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    KubeconfigError,
    PlanError,
    CycleError,
    UnsafeDocumentError,
    ServingError,
    PipelinePackageError,
    MissingExtraError,
)


@dataclass(frozen=True)
class ProgramInputs:
    """The stack's validated config, its install plan and what it serves (if anything)."""

    config: StackConfig
    plan: InstallPlan
    serving: ServingInputs | None


def read_program_inputs() -> ProgramInputs:
    """Read and check every input of the program, before any resource exists.

    Raises:
        pulumi.RunError: an input is bad; the message is the error's own, one line.
    """
    try:
        config = load_stack_config()
        base = config.project_dir
        plan = require_clean(build_plan(kubeflow_settings(config.settings, base=base)))
        serving = load_serving_inputs(config.settings, base=base)
    except INPUT_ERRORS as error:
        # Chained for tests and logs; the CLI shows the message alone.
        raise pulumi.RunError(f"{type(error).__name__}: {error}") from error
    return ProgramInputs(config=config, plan=plan, serving=serving)
