"""The Kubeflow platform as a pure core: settings in, an InstallPlan out (no Pulumi).

Stages, each a folder: `catalogue/` (what a release holds) -> `render/` (kustomize)
-> `transforms/` (credentials, users, images, sizes ...) -> `graph/` (edges, waves)
-> `checks/` (schema and policy). The shell (`infra/__main__.py`, `infra/components`,
`infra/plan.py`, `infra/config*.py`) imports only the names below.

The names are imported on first use (PEP 562), each from the module its import line
below names, so that a leaf of the core (the release table, the secret specs) imports
without the rest: config validation reads those and never renders.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.kubeflow.allow import parse_allow_entry
    from infra.kubeflow.catalogue import (
        RELEASE_NAMES,
        RELEASES,
        SUPPORTED_KUBERNETES,
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

__all__ = [
    "DERIVED_SECRETS",
    "RELEASES",
    "RELEASE_NAMES",
    "SECRETS",
    "SUPPORTED_KUBERNETES",
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


def _exports() -> dict[str, tuple[str, str]]:
    """Public name -> (module, attribute), read from the `TYPE_CHECKING` imports above."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If))
    return {
        alias.asname or alias.name: (str(node.module), alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_EXPORTS = _exports()


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
