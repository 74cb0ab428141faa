"""The stack's users: Dex static users and one Profile each, in one transform.

`kubeflow.users` replaces the release's example user everywhere: Dex's
`staticPasswords` (all users share the hash of `dexPassword`, read from the env var
the credentials transform fills) and the Profiles (namespaces) they own.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Sequence
from dataclasses import replace

import yaml

from infra.kubeflow.objects import Manifest, ObjectKey, PlannedObject
from infra.kubeflow.settings import KubeflowSettings, UserProfile
from infra.safe_yaml import MANIFESTS, load_one

PROFILE_GROUP = "kubeflow.org"
DEX_CONFIG = ("auth", "dex")
DEX_HASH_ENV = "DEX_USER_PASSWORD"


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Write the users into Dex's config and give each one a Profile.

    Profiles are planned only when the plan holds the Profile CRD (the profiles
    component); they belong to the component of the release's own Profiles, else to
    the one of the CRD.
    """
    users = settings.users
    objects = tuple(_with_dex_users(obj, users) for obj in objects)
    owner = _profiles_component(objects)
    if owner is None:
        return objects
    return apply_users(objects, users, profiles_component=owner)


def _profiles_component(objects: Sequence[PlannedObject]) -> str | None:
    crd = None
    for obj in objects:
        if obj.key.group == PROFILE_GROUP and obj.key.kind == "Profile":
            return obj.component
        if obj.key.kind == "CustomResourceDefinition" and obj.key.name == (
            f"profiles.{PROFILE_GROUP}"
        ):
            crd = obj.component
    return crd


def _with_dex_users(obj: PlannedObject, users: Sequence[UserProfile]) -> PlannedObject:
    if obj.key.kind != "ConfigMap" or (obj.key.namespace, obj.key.name) != DEX_CONFIG:
        return obj
    data = obj.manifest.get("data") or {}
    if "config.yaml" not in data:
        return obj
    manifest = copy.deepcopy(obj.manifest)
    manifest["data"]["config.yaml"] = dex_config(data["config.yaml"], users)
    return replace(obj, manifest=manifest)


def dex_config(config_yaml: str, users: Sequence[UserProfile]) -> str:
    """Return Dex's config with one static user per entry of `users` (same password hash)."""
    config = load_one(config_yaml, source="ConfigMap auth/dex config.yaml", limits=MANIFESTS)
    config["staticPasswords"] = [
        {
            "email": user.email,
            "hashFromEnv": DEX_HASH_ENV,
            "username": re.sub(r"[^a-z0-9._-]", "-", user.email.split("@")[0].lower()),
            "userID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kfstack:dex:{user.email}")),
        }
        for user in users
    ]
    return yaml.safe_dump(config, sort_keys=False)


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
