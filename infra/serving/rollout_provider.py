"""Where stacks made before the move keep finding the rollout check's dynamic provider.

Pulumi stores a dynamic provider pickled by reference: stacks created when the provider
lived here hold `infra.serving.rollout_provider.RolloutProvider` in their state, and the
engine unpickles that reference to delete or refresh the resource. The provider now lives
in the shell (`infra/components/rollout_provider.py`); this module resolves the old name
lazily, so importing the pure `infra.serving` package still imports no Pulumi.
"""

from __future__ import annotations

import importlib
from typing import Any

_MOVED_TO = "infra.components.rollout_provider"
_NAMES = frozenset(
    {"RolloutProvider", "InferenceServiceRollout", "fetch_inference_service", "wait"}
)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_MOVED_TO), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
