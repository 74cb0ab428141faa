"""The KubeflowPlatform component: every object of the install plan as its own resource.

The pure core (`infra/kubeflow`) decided the objects and their order; this shell only
registers them through the cluster's provider, with `depends_on` from the plan's
edges on each resource, secret values from stack config or generated, and the
objects that hold data protected and retained when the stack says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_random as random

from infra.kubeflow import (
    DERIVED_SECRETS,
    InstallPlan,
    ObjectKey,
    PlannedObject,
    SecretSpec,
    protected_objects,
    substitute,
    tokens_in,
)
from infra.kubeflow.credential_specs import INSTALLATION_SALT_KEY


def type_token(api_version: str, kind: str) -> str:
    """The pulumi-kubernetes type token of a kind: `v1` is the `core/v1` group."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def kind_versions(objects: Sequence[PlannedObject]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Return (group, kind) -> every version its CRD in the plan serves."""
    versions: dict[tuple[str, str], tuple[str, ...]] = {}
    for obj in objects:
        manifest = obj.manifest
        if manifest.get("kind") != "CustomResourceDefinition":
            continue
        spec = manifest.get("spec") or {}
        names = tuple(str(v.get("name")) for v in spec.get("versions") or () if v.get("name"))
        kind = str((spec.get("names") or {}).get("kind", ""))
        versions[(str(spec.get("group", "")), kind)] = names
    return versions


def version_aliases(
    manifest: Mapping[str, Any], versions: Mapping[tuple[str, str], Sequence[str]]
) -> list[pulumi.Alias]:
    """Aliases under the other versions of the object's kind: a version move updates it.

    The type token carries the apiVersion, so without an alias a release that moves a
    kind from v1beta1 to v1 would delete and recreate every object of that kind.
    """
    group, _, version = str(manifest["apiVersion"]).rpartition("/")
    kind = str(manifest["kind"])
    return [
        pulumi.Alias(type_=type_token(f"{group}/{other}", kind))
        for other in versions.get((group, kind), ())
        if other != version
    ]


class KubernetesObject(pulumi.CustomResource):
    """One Kubernetes object of any kind, registered with its whole manifest.

    The provider handles every kind as an unstructured object under its type token,
    so one class serves the built-in kinds and the custom resources of the release.
    """

    def __init__(
        self,
        resource_name: str,
        manifest: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {k: v for k, v in manifest.items() if k != "status"}
        props["status"] = None  # an output: what the cluster reports (KServe's URL ...)
        token = type_token(str(manifest["apiVersion"]), str(manifest["kind"]))
        super().__init__(token, resource_name, props, opts)


@dataclass(frozen=True)
class KubeflowPlatformArgs:
    """What KubeflowPlatform registers and how.

    Attributes:
        plan: the install plan of the pure core (objects, edges, secrets).
        secrets: provided secret values by config key (`dexPassword` ...), as secrets.
        protect_data: protect and retain the objects that hold data (prod).
    """

    plan: InstallPlan
    secrets: Mapping[str, pulumi.Output[str]]
    protect_data: bool = False


class KubeflowPlatform(pulumi.ComponentResource):
    """The Kubeflow platform of one stack, installed in the plan's order."""

    objects: dict[ObjectKey, KubernetesObject]
    credentials: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: KubeflowPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kfstack:kubeflow:KubeflowPlatform", name, {}, opts)
        self._provided_salt = args.secrets.get(INSTALLATION_SALT_KEY)
        self.credentials = self._credentials(args.plan.secrets, args.secrets)
        values = {
            spec.name: self._derived(spec, self.credentials[spec.config_key])
            for spec in args.plan.secrets
        }
        self.objects = {}
        self._protected = protected_objects(args.plan.objects) if args.protect_data else {}
        self._versions = kind_versions(args.plan.objects)
        by_key = {obj.key: obj for obj in args.plan.objects}
        for wave in args.plan.waves:
            for key in wave:
                self.objects[key] = self._register(by_key[key], args, values)
        self.register_outputs(
            {
                "release": args.plan.release,
                "components": list(args.plan.components),
                "objectCount": len(self.objects),
                "waveCount": len(args.plan.waves),
                "credentials": self.credentials,
            }
        )

    def _credentials(
        self, specs: Sequence[SecretSpec], provided: Mapping[str, pulumi.Output[str]]
    ) -> dict[str, pulumi.Output[str]]:
        """Each credential from stack config, or generated once and kept in state."""
        credentials: dict[str, pulumi.Output[str]] = {}
        for spec in specs:
            if spec.config_key in credentials:
                continue
            given = provided.get(spec.config_key)
            if given is None:
                generated = random.RandomPassword(
                    spec.config_key,
                    length=spec.length,
                    special=spec.special,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                given = generated.result
            credentials[spec.config_key] = pulumi.Output.secret(given)
        return credentials

    def _derived(self, spec: SecretSpec, value: pulumi.Output[str]) -> pulumi.Output[str]:
        derive = DERIVED_SECRETS.get(spec.name)
        if derive is None:
            return value
        salt = self._installation_salt()
        return pulumi.Output.secret(
            pulumi.Output.all(value, salt).apply(lambda pair: derive(pair[0], pair[1]))
        )

    def _installation_salt(self) -> pulumi.Output[str]:
        """The salt of derived hashes: from stack config, else random bytes kept in state."""
        if not hasattr(self, "_salt"):
            salt: pulumi.Output[str]
            if self._provided_salt is not None:
                salt = self._provided_salt
            else:
                salt = random.RandomBytes(
                    "installation-salt", length=32, opts=pulumi.ResourceOptions(parent=self)
                ).base64
            self._salt: pulumi.Output[str] = pulumi.Output.secret(salt)
        return self._salt

    def _register(
        self,
        obj: PlannedObject,
        args: KubeflowPlatformArgs,
        values: Mapping[str, pulumi.Output[str]],
    ) -> KubernetesObject:
        manifest: dict[str, Any] = dict(obj.manifest)
        for field, node in obj.manifest.items():
            needed = tokens_in(node)
            if needed:
                manifest[field] = _secret_field(node, {n: values[n] for n in sorted(needed)})
        keep = obj.key in self._protected
        depends_on: list[pulumi.Resource] = [
            self.objects[dep] for dep in sorted(args.plan.edges.get(obj.key, ()))
        ]
        return KubernetesObject(
            obj.key.resource_name,
            manifest,
            pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                protect=keep,
                retain_on_delete=keep,
                aliases=version_aliases(obj.manifest, self._versions),
            ),
        )


def _secret_field(node: Any, values: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[Any]:
    """A manifest field with its tokens replaced by secret values, kept secret."""
    resolved = pulumi.Output.all(**values).apply(lambda v: substitute(node, v))
    return pulumi.Output.secret(resolved)
