"""KubeflowSettings for tests, built the one way the program builds them.

The pure core's settings have no defaults of their own: `kubeflow_settings` takes the stack
config's defaults (infra/config_model.py) through `infra.config.kubeflow_settings`, then the
changes a test asks for.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from infra.config import kubeflow_settings as settings_of_stack
from infra.config_model import StackSettings
from infra.kubeflow.settings import KubeflowSettings, ManifestSource

REPO = Path(__file__).resolve().parents[1]
# istio-cni needs SYS_ADMIN (the policy flags it unless allowed).
ALLOW = ("DaemonSet/kube-system/istio-cni-node",)


def kubeflow_settings(**changes: Any) -> KubeflowSettings:
    """The settings of a stack with nothing set (kind cluster, full preset), changed."""
    return replace(settings_of_stack(StackSettings(stack="test"), base=REPO), **changes)


def full_settings(manifests: Path, **changes: Any) -> KubeflowSettings:
    """The full preset from `manifests`, as the release's example installs it.

    The example installs the m2m-dex-only oauth2-proxy overlay: the cluster kind "existing".
    """
    example = kubeflow_settings(
        preset="full",
        cluster_kind="existing",
        gateway_node_port=None,
        source=ManifestSource(path=manifests),
        allow_privileged=ALLOW,
    )
    return replace(example, **changes)
