"""The release's own profile controller (`sync.py`), run as metacontroller runs it.

Each shared Kubeflow release holds the real `sync.py` of its pipelines profile controller
under `release-tests/` (see that folder's README). It is an HTTP handler class built by
`server_factory` around one method, `sync(parent, attachments)`: the parent Namespace and
its observed children in, the desired children out. This module loads the file with
importlib from KFSTACK_SHARED (never a copy in the repo), builds the handler class with
the settings its Deployment gives it, and calls `sync` directly.

Only what needs a cluster is stubbed: 26.03's SeaweedFS IAM client (`create_access_key`,
`put_user_policy`, whose policy document is recorded) and its S3 client (the bucket
lifecycle call). v1.10.2 copies the admin keys it is given (`MINIO_ACCESS_KEY`) into
every profile, and has no policy: its keys reach the whole bucket.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import inspect
import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from tests import shared
from tests.conftest import KUBEFLOW_RELEASES, SHARED

INSTALL_CONFIG = "applications/pipeline/upstream/base/installs/generic/pipeline-install-config.yaml"
ENABLED = "pipelines.kubeflow.org/enabled"
ADMIN_KEYS = ("platform-admin-access", "platform-admin-secret")
#: KFP's launcher root where a namespace has no kfp-launcher ConfigMap (kubeflow/pipelines
#: backend/src/v2/config/env.go); not the controller's, so stated here for the tests.
KFP_DEFAULT_ROOT = "minio://mlpipeline/v2/artifacts"
ATTACHMENT_KINDS = (
    "Secret.v1",
    "ConfigMap.v1",
    "Deployment.apps/v1",
    "Service.v1",
    "DestinationRule.networking.istio.io/v1alpha3",
    "AuthorizationPolicy.security.istio.io/v1beta1",
)


def sync_file(release: str) -> Path:
    """The real sync.py of `release` under KFSTACK_SHARED."""
    (copy,) = [c for c in shared.NEEDS.kubeflow if c.release == release]
    return SHARED / copy.markers[1]


class _Iam:
    """SeaweedFS's IAM API as sync.py calls it: keys per user, the policy document kept."""

    def __init__(self) -> None:
        self.policies: dict[str, dict[str, Any]] = {}

    def create_access_key(self, *, UserName: str) -> dict[str, Any]:
        return {
            "AccessKey": {
                "AccessKeyId": f"{UserName}-access",
                "SecretAccessKey": f"{UserName}-secret",
            }
        }

    def put_user_policy(self, *, UserName: str, PolicyName: str, PolicyDocument: str) -> None:
        self.policies[UserName] = json.loads(PolicyDocument)


class _S3:
    """The lifecycle calls sync.py makes on the bucket (none matters to a profile)."""

    def get_bucket_lifecycle_configuration(self, **_: Any) -> dict[str, Any]:
        return {"Rules": []}

    def put_bucket_lifecycle_configuration(self, **_: Any) -> dict[str, Any]:
        return {}

    def delete_bucket_lifecycle(self, **_: Any) -> None:
        return None


@cache
def _module(release: str) -> ModuleType:
    path = sync_file(release)
    spec = importlib.util.spec_from_file_location(
        f"kfp_profile_sync_{release.replace('.', '_')}", path
    )
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _default_pipeline_root(release: str) -> str:
    """`defaultPipelineRoot` of the release's pipeline-install-config (the Deployment's env)."""
    text = (KUBEFLOW_RELEASES[release] / INSTALL_CONFIG).read_text(encoding="utf-8")
    return str(yaml.safe_load(text)["data"].get("defaultPipelineRoot", ""))


def _settings(release: str, factory: Any) -> dict[str, Any]:
    given = {
        "frontend_image": "ghcr.io/kubeflow/kfp-frontend",
        "frontend_tag": "test",
        "visualization_server_image": "ghcr.io/kubeflow/kfp-visualization-server",
        "visualization_server_tag": "test",
        "disable_istio_sidecar": False,
        "artifacts_proxy_enabled": "false",
        "artifact_retention_days": -1,
        "minio_access_key": base64.b64encode(ADMIN_KEYS[0].encode()).decode(),
        "minio_secret_key": base64.b64encode(ADMIN_KEYS[1].encode()).decode(),
        "kfp_default_pipeline_root": _default_pipeline_root(release) or None,
        "url": "127.0.0.1",
        "controller_port": 0,
    }
    accepted = inspect.signature(factory).parameters
    return {k: v for k, v in given.items() if k in accepted}


@dataclass(frozen=True)
class ProfileGrant:
    """What the release's profile controller gives one profile namespace."""

    release: str
    namespace: str
    children: tuple[dict[str, Any], ...]
    policy: dict[str, Any] | None  # the IAM policy of its keys (None: admin keys, no policy)

    def child(self, kind: str, name: str) -> dict[str, Any] | None:
        """The desired child of that kind and name, if the controller makes it."""
        return next(
            (c for c in self.children if c["kind"] == kind and c["metadata"]["name"] == name),
            None,
        )

    @property
    def keys(self) -> tuple[str, str]:
        """The access and secret key of the profile's `mlpipeline-minio-artifact` Secret."""
        secret = self.child("Secret", "mlpipeline-minio-artifact")
        assert secret is not None
        data = secret["data"]
        return (
            base64.b64decode(data["accesskey"]).decode(),
            base64.b64decode(data["secretkey"]).decode(),
        )

    @property
    def allowed_prefixes(self) -> tuple[str, ...] | None:
        """Object keys of bucket `mlpipeline` the keys may use (None: any, no policy)."""
        if self.policy is None:
            return None
        arn = "arn:aws:s3:::mlpipeline/"
        return tuple(
            resource.removeprefix(arn).removesuffix("*")
            for statement in self.policy["Statement"]
            for resource in statement["Resource"]
            if resource.startswith(arn)
        )

    def may_use(self, key: str) -> bool:
        """Whether the profile's keys may read and write object `key` of `mlpipeline`."""
        prefixes = self.allowed_prefixes
        return prefixes is None or key.startswith(prefixes)

    @property
    def pipeline_root(self) -> str:
        """Where the namespace's runs write: its kfp-launcher root, else KFP's default."""
        launcher = self.child("ConfigMap", "kfp-launcher")
        root = (launcher or {}).get("data", {}).get("defaultPipelineRoot")
        return str(root or KFP_DEFAULT_ROOT)

    def as_kubectl_list(self) -> dict[str, Any]:
        """What `kubectl get secret/mlpipeline-minio-artifact configmap/kfp-launcher
        --ignore-not-found -o json` prints in that namespace."""
        wanted = {("Secret", "mlpipeline-minio-artifact"), ("ConfigMap", "kfp-launcher")}
        items = [c for c in self.children if (c["kind"], c["metadata"]["name"]) in wanted]
        return {"apiVersion": "v1", "kind": "List", "items": items}


def profile_grant(release: str, namespace: str) -> ProfileGrant:
    """Run the release's sync hook for a new pipelines-enabled profile namespace."""
    module = _module(release)
    iam = _Iam()
    if hasattr(module, "iam"):
        module.iam, module.s3 = iam, _S3()
    server = module.server_factory(**_settings(release, module.server_factory))
    try:
        controller = server.RequestHandlerClass
    finally:
        server.server_close()
    parent = {"metadata": {"name": namespace, "labels": {ENABLED: "true"}}}
    attachments: dict[str, Any] = {kind: {} for kind in ATTACHMENT_KINDS}
    with contextlib.redirect_stdout(io.StringIO()):  # it prints what it received and made
        desired = controller.sync(controller.__new__(controller), parent, attachments)
    return ProfileGrant(
        release=release,
        namespace=namespace,
        children=tuple(desired["attachments"]),
        policy=iam.policies.get(namespace),
    )
