"""The Kubeflow platform as a pure core: settings in, an InstallPlan out (no Pulumi).

Stages, each a folder with one entry that `core.build_plan` calls: `catalogue/` (what a
release holds: `select_plan`) -> `render/` (the source, then kustomize:
`render_components`) -> `transforms/` (credentials, users, images, sizes, readiness ...:
`apply_transforms`) -> `graph/` (edges, waves: `install_graph`) -> `checks/` (schema and
policy: `run_checks`). The shell (`infra/__main__.py`, `infra/components`, `infra/plan.py`,
`infra/config*.py`) imports only the names below.

The names are imported on first use (PEP 562), each from the module `_EXPORTS` names,
so that a leaf of the core (the release table, the secret specs) imports without the
rest: config validation reads those and never renders. The `TYPE_CHECKING` imports say
the same for type checkers and readers (a test checks that the two agree).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names as `_EXPORTS`, for type checkers
    from infra.kubeflow.allow import parse_allow_entry
    from infra.kubeflow.catalogue import (
        RELEASE_NAMES,
        RELEASES,
        SUPPORTED_KUBERNETES,
        TRAINING_COMPONENTS,
        TRAINING_RELEASES,
        KubeflowRelease,
        find_kubeflow_release,
    )
    from infra.kubeflow.checks.gate import PlanRejectedError, require_clean
    from infra.kubeflow.core import build_plan, default_cache_dir
    from infra.kubeflow.credential_specs import SECRETS
    from infra.kubeflow.diff import PlanDiff, diff_plans, load_plan_dir
    from infra.kubeflow.errors import CatalogueError, PlanError, RenderError, SourceError
    from infra.kubeflow.graph import CycleError, infer_edges
    from infra.kubeflow.graph.protection import protected_objects
    from infra.kubeflow.objects import (
        DeclaredEdge,
        Finding,
        InstallPlan,
        Manifest,
        ObjectKey,
        ObjectMatch,
        PlannedObject,
        SecretSpec,
        secret_token,
    )
    from infra.kubeflow.settings import KubeflowSettings, ManifestSource, UserProfile
    from infra.kubeflow.tokens import substitute, tokens_in
    from infra.kubeflow.transforms.credentials import DERIVED as DERIVED_SECRETS

# Public name -> (module, attribute): the table `__getattr__` imports from.
_EXPORTS: dict[str, tuple[str, str]] = {
    "CatalogueError": ("infra.kubeflow.errors", "CatalogueError"),
    "CycleError": ("infra.kubeflow.graph", "CycleError"),
    "DERIVED_SECRETS": ("infra.kubeflow.transforms.credentials", "DERIVED"),
    "DeclaredEdge": ("infra.kubeflow.objects", "DeclaredEdge"),
    "Finding": ("infra.kubeflow.objects", "Finding"),
    "InstallPlan": ("infra.kubeflow.objects", "InstallPlan"),
    "KubeflowRelease": ("infra.kubeflow.catalogue", "KubeflowRelease"),
    "KubeflowSettings": ("infra.kubeflow.settings", "KubeflowSettings"),
    "Manifest": ("infra.kubeflow.objects", "Manifest"),
    "ManifestSource": ("infra.kubeflow.settings", "ManifestSource"),
    "ObjectKey": ("infra.kubeflow.objects", "ObjectKey"),
    "ObjectMatch": ("infra.kubeflow.objects", "ObjectMatch"),
    "PlanDiff": ("infra.kubeflow.diff", "PlanDiff"),
    "PlanError": ("infra.kubeflow.errors", "PlanError"),
    "PlanRejectedError": ("infra.kubeflow.checks.gate", "PlanRejectedError"),
    "PlannedObject": ("infra.kubeflow.objects", "PlannedObject"),
    "RELEASES": ("infra.kubeflow.catalogue", "RELEASES"),
    "RELEASE_NAMES": ("infra.kubeflow.catalogue", "RELEASE_NAMES"),
    "RenderError": ("infra.kubeflow.errors", "RenderError"),
    "SECRETS": ("infra.kubeflow.credential_specs", "SECRETS"),
    "SUPPORTED_KUBERNETES": ("infra.kubeflow.catalogue", "SUPPORTED_KUBERNETES"),
    "TRAINING_COMPONENTS": ("infra.kubeflow.catalogue", "TRAINING_COMPONENTS"),
    "TRAINING_RELEASES": ("infra.kubeflow.catalogue", "TRAINING_RELEASES"),
    "SecretSpec": ("infra.kubeflow.objects", "SecretSpec"),
    "SourceError": ("infra.kubeflow.errors", "SourceError"),
    "UserProfile": ("infra.kubeflow.settings", "UserProfile"),
    "build_plan": ("infra.kubeflow.core", "build_plan"),
    "default_cache_dir": ("infra.kubeflow.core", "default_cache_dir"),
    "diff_plans": ("infra.kubeflow.diff", "diff_plans"),
    "find_kubeflow_release": ("infra.kubeflow.catalogue", "find_kubeflow_release"),
    "infer_edges": ("infra.kubeflow.graph", "infer_edges"),
    "load_plan_dir": ("infra.kubeflow.diff", "load_plan_dir"),
    "parse_allow_entry": ("infra.kubeflow.allow", "parse_allow_entry"),
    "protected_objects": ("infra.kubeflow.graph.protection", "protected_objects"),
    "require_clean": ("infra.kubeflow.checks.gate", "require_clean"),
    "secret_token": ("infra.kubeflow.objects", "secret_token"),
    "substitute": ("infra.kubeflow.tokens", "substitute"),
    "tokens_in": ("infra.kubeflow.tokens", "tokens_in"),
}

__all__ = [
    "DERIVED_SECRETS",
    "RELEASES",
    "RELEASE_NAMES",
    "SECRETS",
    "SUPPORTED_KUBERNETES",
    "TRAINING_COMPONENTS",
    "TRAINING_RELEASES",
    "CatalogueError",
    "CycleError",
    "DeclaredEdge",
    "Finding",
    "InstallPlan",
    "KubeflowRelease",
    "KubeflowSettings",
    "Manifest",
    "ManifestSource",
    "ObjectKey",
    "ObjectMatch",
    "PlanDiff",
    "PlanError",
    "PlanRejectedError",
    "PlannedObject",
    "RenderError",
    "SecretSpec",
    "SourceError",
    "UserProfile",
    "build_plan",
    "default_cache_dir",
    "diff_plans",
    "find_kubeflow_release",
    "infer_edges",
    "load_plan_dir",
    "parse_allow_entry",
    "protected_objects",
    "require_clean",
    "secret_token",
    "substitute",
    "tokens_in",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
