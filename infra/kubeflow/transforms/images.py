"""Registry mirror: every image reference pulled through `kubeflow.registryMirror`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from infra.kubeflow.objects import Manifest, PlannedObject
from infra.kubeflow.settings import KubeflowSettings

# Keys whose string value is an image reference, in workloads and in custom resources
# (KServe ClusterServingRuntime, ClusterStorageContainer, Knative's Image, ...).
_IMAGE_KEY = re.compile(r"^(image|.*[a-z](Image|-image))$")
_DIGEST_OR_TAG = re.compile(r"^[a-z0-9][a-z0-9._/-]*[a-z0-9](:[\w.-]+)?(@sha256:[0-9a-f]{64})?$")


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Rewrite every image under `settings.registry_mirror` (when set)."""
    if not settings.registry_mirror:
        return objects
    return rewrite_images(objects, settings.registry_mirror)


def mirror_image(image: str, mirror: str) -> str:
    """Return `image` pulled through the registry `mirror` (a prefix like `reg.local/kf`).

    Docker Hub short names are made explicit first (`mysql:8.0` ->
    `docker.io/library/mysql:8.0`) so the mirror path names the source registry.
    Idempotent: an image already under the mirror is returned as is.
    """
    prefix = mirror.rstrip("/")
    if image.startswith(prefix + "/"):
        return image
    first, slash, rest = image.partition("/")
    if not slash:
        full = f"docker.io/library/{image}"
    elif "." in first or ":" in first or first == "localhost":
        full = image
    else:
        full = f"docker.io/{first}/{rest}"
    return f"{prefix}/{full}"


def rewrite_images(objects: Sequence[PlannedObject], mirror: str) -> tuple[PlannedObject, ...]:
    """Return the objects with every image reference under the registry `mirror`.

    Covers containers and init containers of workloads, image fields of custom resources
    (serving runtimes, storage containers, Knative images) and images in ConfigMaps
    (`*-image` keys, JSON values with image fields, such as KServe's inferenceservice-config).
    CRDs are left alone (their schemas mention images but hold none).
    """

    def rewrite(value: str) -> str:
        return mirror_image(value, mirror) if _DIGEST_OR_TAG.match(value) else value

    out = []
    for obj in objects:
        if obj.key.kind == "CustomResourceDefinition":
            out.append(obj)
            continue
        if obj.key.kind == "ConfigMap":
            manifest = _rewrite_configmap(obj.manifest, rewrite)
        else:
            manifest = _map_images(obj.manifest, rewrite)
        out.append(obj if manifest is obj.manifest else replace(obj, manifest=manifest))
    return tuple(out)


def _map_images(node: Any, rewrite: Callable[[str], str]) -> Any:
    """Return `node` with image values rewritten; unchanged subtrees are returned as is."""
    if isinstance(node, dict):
        changed: dict[str, Any] | None = None
        for key, value in node.items():
            if isinstance(value, str):
                new = rewrite(value) if _IMAGE_KEY.match(str(key)) else value
            else:
                new = _map_images(value, rewrite)
            if new is not value:
                changed = changed if changed is not None else dict(node)
                changed[key] = new
        return changed if changed is not None else node
    if isinstance(node, list):
        items = [_map_images(v, rewrite) for v in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    return node


def _rewrite_configmap(manifest: Manifest, rewrite: Callable[[str], str]) -> Manifest:
    data = manifest.get("data")
    if not isinstance(data, dict):
        return manifest
    new_data = dict(data)
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        if _IMAGE_KEY.match(key):
            new_data[key] = rewrite(value)
        elif value.lstrip().startswith("{"):
            new_data[key] = _rewrite_json(value, rewrite)
    if all(new_data[k] is data[k] or new_data[k] == data[k] for k in data):
        return manifest
    return {**manifest, "data": new_data}


def _rewrite_json(text: str, rewrite: Callable[[str], str]) -> str:
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    mapped = _map_images(parsed, rewrite)
    return text if mapped is parsed else json.dumps(mapped, indent=2)
