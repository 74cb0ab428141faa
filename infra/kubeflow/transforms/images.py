"""Pure transforms of the rendered objects: users' Profiles, registry mirror, resource sizes.

Each transform takes planned objects and returns new ones; a manifest it changes is a
deep copy, one it does not change is passed through. Input is never mutated.
Credentials are in `credentials.py`.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from infra.kubeflow.catalogue import Component
from infra.kubeflow.objects import Manifest, ObjectKey, PlannedObject
from infra.kubeflow.render.kustomize import Rendered
from infra.kubeflow.settings import UserProfile

PROFILE_GROUP = "kubeflow.org"
POD_TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Keys whose string value is an image reference, in workloads and in custom resources
# (KServe ClusterServingRuntime, ClusterStorageContainer, Knative's Image, ...).
_IMAGE_KEY = re.compile(r"^(image|.*[a-z](Image|-image))$")
_DIGEST_OR_TAG = re.compile(r"^[a-z0-9][a-z0-9._/-]*[a-z0-9](:[\w.-]+)?(@sha256:[0-9a-f]{64})?$")


def planned_objects(
    rendered: Sequence[Rendered], components: Sequence[Component]
) -> tuple[PlannedObject, ...]:
    """Return the rendered objects as PlannedObjects, with `holds_data` from the catalogue."""
    by_name = {c.name: c for c in components}
    out = []
    for item in rendered:
        key = ObjectKey.of(item.manifest)
        out.append(
            PlannedObject(
                key=key,
                manifest=item.manifest,
                component=item.component,
                holds_data=by_name[item.component].holds_data(key),
            )
        )
    return tuple(out)


# --- users and their Profiles -------------------------------------------------------------


def apply_users(
    objects: Sequence[PlannedObject], users: Sequence[UserProfile], *, profiles_component: str
) -> tuple[PlannedObject, ...]:
    """Return the objects with one Profile per user (owner = the user's email).

    A release Profile of the same name gets the user as owner; release Profiles that no
    user names are dropped (the stack's users replace the example user); missing ones are
    added with origin "stack".
    """
    wanted = {u.profile: u for u in users}
    out: list[PlannedObject] = []
    seen: set[str] = set()
    for obj in objects:
        if obj.key.group != PROFILE_GROUP or obj.key.kind != "Profile":
            out.append(obj)
            continue
        user = wanted.get(obj.key.name)
        if user is None:
            continue
        seen.add(user.profile)
        owner = (obj.manifest.get("spec") or {}).get("owner") or {}
        if owner.get("name") == user.email:
            out.append(obj)
            continue
        manifest = copy.deepcopy(obj.manifest)
        manifest.setdefault("spec", {})["owner"] = {"kind": "User", "name": user.email}
        out.append(replace(obj, manifest=manifest))
    for user in users:
        if user.profile not in seen:
            manifest = profile_manifest(user)
            out.append(
                PlannedObject(
                    key=ObjectKey.of(manifest),
                    manifest=manifest,
                    component=profiles_component,
                    origin="stack",
                    reason=f"Profile of stack user {user.email} (kubeflow.users)",
                )
            )
    return tuple(out)


def profile_manifest(user: UserProfile) -> Manifest:
    """Return the kubeflow.org/v1 Profile (namespace) owned by `user`."""
    return {
        "apiVersion": f"{PROFILE_GROUP}/v1",
        "kind": "Profile",
        "metadata": {"name": user.profile},
        "spec": {"owner": {"kind": "User", "name": user.email}},
    }


# --- images ---------------------------------------------------------------------------------


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


# --- resource requests -----------------------------------------------------------------------


def scale_requests(objects: Sequence[PlannedObject], scale: float) -> tuple[PlannedObject, ...]:
    """Return the objects with container CPU and memory requests multiplied by `scale`.

    A scaled request never exceeds the container's limit; results are rounded up to a
    whole millicore and a whole MiB.
    """
    if scale == 1:
        return tuple(objects)
    out = []
    for obj in objects:
        if obj.key.kind not in POD_TEMPLATE_KINDS:
            out.append(obj)
            continue
        manifest = copy.deepcopy(obj.manifest)
        changed = False
        for container in workload_containers(manifest):
            resources = container.get("resources") or {}
            requests = resources.get("requests") or {}
            limits = resources.get("limits") or {}
            for name in ("cpu", "memory"):
                if name in requests:
                    scaled = _scale_quantity(name, requests[name], scale, limits.get(name))
                    changed = changed or scaled != requests[name]
                    requests[name] = scaled
        out.append(replace(obj, manifest=manifest) if changed else obj)
    return tuple(out)


def workload_containers(manifest: Manifest) -> Iterator[dict[str, Any]]:
    """Yield the (mutable) containers of a workload manifest or Pod: init, regular, ephemeral."""
    spec = manifest.get("spec") or {}
    if manifest.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    pod = spec if manifest.get("kind") == "Pod" else (spec.get("template") or {}).get("spec")
    for field in _CONTAINER_LISTS:
        yield from (pod or {}).get(field) or []


_SUFFIX = {
    "m": Decimal("0.001"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
}
_QUANTITY = re.compile(r"^([0-9.]+(?:[eE][0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> Decimal | None:
    """Return a Kubernetes quantity (`100m`, `1.5`, `256Mi`) as a number, None if unknown."""
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        return None


def _scale_quantity(name: str, value: object, scale: float, limit: object) -> object:
    amount = parse_quantity(value)
    if amount is None:
        return value
    scaled = amount * Decimal(str(scale))
    cap = parse_quantity(limit) if limit is not None else None
    if cap is not None and scaled > cap:
        scaled = cap
    if name == "cpu":
        return f"{max(1, math.ceil(scaled * 1000))}m"
    return f"{max(1, math.ceil(scaled / 2**20))}Mi"
