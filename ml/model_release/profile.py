"""What a Kubeflow profile gives its users in the object store: keys, paths, pipeline root.

Kubeflow's pipelines profile controller (`sync.py` of the release, see
``../shared/kubeflow/<release>/release-tests/``) makes in each profile namespace:

- the Secret ``mlpipeline-minio-artifact`` (``accesskey``, ``secretkey``): in 26.03 keys of
  that profile alone, allowed only ``artifacts/*``, ``private-artifacts/<ns>/*``,
  ``private/<ns>/*`` and ``shared/*`` of bucket ``mlpipeline``; in v1.10 a copy of the
  platform's MinIO keys;
- the ConfigMap ``kfp-launcher`` whose ``defaultPipelineRoot`` is where the profile's runs
  write artifacts (26.03: ``minio://mlpipeline/private-artifacts/<ns>/v2/artifacts``). v1.10
  makes none unless the platform sets one, and KFP's launcher then uses its own default.

Every path of the journey is inside the profile's ``private/<ns>/`` (its data, its published
models) or its pipeline root (a run's outputs), which both releases let the profile use.
From a laptop the two objects are read once with kubectl (`PROFILE_COMMAND`) into a file.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ml.model_release.store import ObjectStore, StoreError, object_store

__all__ = [
    "KFP_LAUNCHER_DEFAULT_ROOT",
    "PROFILE_COMMAND",
    "Profile",
    "models_prefix",
    "private_prefix",
    "profile_from_objects",
    "read_profile",
]

BUCKET: Final = "mlpipeline"
PROFILE_SECRET: Final = "mlpipeline-minio-artifact"
LAUNCHER_CONFIGMAP: Final = "kfp-launcher"
#: The root KFP's launcher uses when the namespace has no `kfp-launcher` ConfigMap
#: (kubeflow/pipelines `backend/src/v2/config/env.go`, `defaultPipelineRoot`).
KFP_LAUNCHER_DEFAULT_ROOT: Final = f"minio://{BUCKET}/v2/artifacts"
PROFILE_COMMAND: Final = (
    f"kubectl -n <namespace> get secret/{PROFILE_SECRET} configmap/{LAUNCHER_CONFIGMAP} "
    "--ignore-not-found -o json"
)


def private_prefix(namespace: str) -> str:
    """The profile's own key prefix (``private/<ns>``): its data and published models."""
    return f"private/{namespace}"


def models_prefix(namespace: str) -> str:
    """Where a profile's published models go: ``private/<ns>/models``."""
    return f"{private_prefix(namespace)}/models"


@dataclass(frozen=True)
class Profile:
    """A profile namespace's object store keys and the pipeline root of its runs."""

    namespace: str
    store: ObjectStore
    pipeline_root: str


def _decoded(data: Mapping[str, Any], key: str, where: str) -> str:
    try:
        return base64.b64decode(str(data[key]), validate=True).decode("utf-8")
    except KeyError:
        raise StoreError(f"{where}: no {key!r}") from None
    except (binascii.Error, UnicodeDecodeError):
        raise StoreError(f"{where}: {key!r} is not base64") from None


def profile_from_objects(
    items: Sequence[Mapping[str, Any]],
    *,
    endpoint: str | None = None,
    region: str = "us-east-1",
    where: str = "profile",
) -> Profile:
    """The profile from its `mlpipeline-minio-artifact` Secret and `kfp-launcher` ConfigMap.

    Raises:
        StoreError: no such Secret, or its keys are not base64.

    """
    by_kind = {(str(i.get("kind")), str(i.get("metadata", {}).get("name"))): i for i in items}
    secret = by_kind.get(("Secret", PROFILE_SECRET))
    if secret is None:
        raise StoreError(
            f"{where}: no Secret {PROFILE_SECRET} (the profile controller makes it in a "
            "pipelines-enabled profile namespace)"
        )
    namespace = str(secret.get("metadata", {}).get("namespace", ""))
    data = secret.get("data") or {}
    at = f"{where}: Secret {PROFILE_SECRET}"
    access_key, secret_key = _decoded(data, "accesskey", at), _decoded(data, "secretkey", at)
    launcher = by_kind.get(("ConfigMap", LAUNCHER_CONFIGMAP)) or {}
    root = str((launcher.get("data") or {}).get("defaultPipelineRoot") or "")
    return Profile(
        namespace=namespace,
        store=object_store(
            endpoint=endpoint, access_key=access_key, secret_key=secret_key, region=region
        ),
        pipeline_root=root or KFP_LAUNCHER_DEFAULT_ROOT,
    )


def read_profile(path: Path, *, endpoint: str | None = None, region: str = "us-east-1") -> Profile:
    """The profile from the JSON `PROFILE_COMMAND` printed into `path`.

    Raises:
        StoreError: the file is missing, not that JSON, or lacks the Secret.

    """
    try:
        loaded: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{path}: not found (write it with `{PROFILE_COMMAND}`)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"{path}: not the JSON of `{PROFILE_COMMAND}`: {exc}") from None
    items = loaded.get("items", [loaded]) if isinstance(loaded, dict) else []
    return profile_from_objects(items, endpoint=endpoint, region=region, where=str(path))
