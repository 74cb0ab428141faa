"""Schema validation of the final objects, before anything reaches a cluster.

Built-in kinds are checked against the Kubernetes OpenAPI schema of the stack's
Kubernetes version (the strict JSON schemas shipped by `kubernetes-validate`: unknown
fields are errors, as with server-side apply's strict field validation). Custom
resources are checked against the `openAPIV3Schema` of their CRD in the plan. What
cannot be checked (no CRD in the plan, no schema for that version) is a warning.

Validators are compiled once per (Kubernetes version, apiVersion, kind) and per CRD
version, so a whole Kubeflow render validates in well under a second.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import jsonschema
import referencing

from infra.kubeflow.crds import crds_of
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.settings import KubeflowSettings

__all__ = ["supported_kubernetes_versions", "validate_objects"]

_MAX_ERRORS_PER_OBJECT = 5
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?$")
_SCHEMA_ROOT = "kubernetes-json-schema"


def _schema_root() -> Traversable:
    return resources.files("kubernetes_validate").joinpath(_SCHEMA_ROOT)


@functools.cache
def supported_kubernetes_versions() -> tuple[str, ...]:
    """Return the "major.minor" Kubernetes versions whose schemas are installed."""
    found = set()
    for entry in _schema_root().iterdir():
        match = re.match(r"^v(\d+\.\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.add(match.group(1))
    return tuple(sorted(found, key=lambda v: tuple(int(p) for p in v.split("."))))


def _minor(kubernetes_version: str) -> str | None:
    """Return "1.34" for "1.34", "v1.34.2" ...; None if malformed or not supported."""
    match = _VERSION_RE.match(kubernetes_version.strip())
    if not match:
        return None
    minor = f"{match.group(1)}.{match.group(2)}"
    return minor if minor in supported_kubernetes_versions() else None


def _schema_dir(minor: str) -> Traversable:
    return _schema_root().joinpath(f"v{minor}.0-local-strict")


@functools.cache
def _registry(kubernetes_version: str) -> referencing.Registry[Any]:
    """Load the shared definitions of one version once (1.5 MB of JSON)."""
    folder = _schema_dir(kubernetes_version)
    definitions = json.loads(folder.joinpath("_definitions.json").read_text())
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        "/api/_definitions.json", referencing.Resource.from_contents(definitions)
    )
    # Crawl once: an uncrawled registry re-crawls 1.5 MB of definitions on every $ref.
    return registry.crawl()


def _schema_file_name(api_version: str, kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1, apps/v1 -> apps-v1, v1 -> v1
    munged = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{munged}.json"


@functools.cache
def _builtin_validator(
    kubernetes_version: str, api_version: str, kind: str
) -> jsonschema.protocols.Validator | None:
    path = _schema_dir(kubernetes_version).joinpath(_schema_file_name(api_version, kind))
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, registry=_registry(kubernetes_version))


def _openapi_to_jsonschema(node: Any) -> Any:
    """Translate OpenAPI v3 `nullable` into JSON schema (null allowed) all the way down."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items()}
    if out.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    return out


def _crd_validators(
    manifests: Sequence[Manifest],
) -> dict[tuple[str, str], dict[str, Mapping[str, Any] | None]]:
    """Return (group, kind) -> served version -> openAPIV3Schema (None if none)."""
    return {key: dict(crd.schemas) for key, crd in crds_of(manifests).items()}


class _CustomValidators:
    """Compiles a CRD version's schema the first time one of its resources is seen."""

    def __init__(self, manifests: Sequence[Manifest]) -> None:
        self.schemas = _crd_validators(manifests)
        self.compiled: dict[tuple[str, str, str], jsonschema.protocols.Validator | None] = {}

    def knows(self, key: ObjectKey) -> bool:
        return (key.group, key.kind) in self.schemas

    def served(self, key: ObjectKey) -> list[str]:
        return sorted(self.schemas[(key.group, key.kind)])

    def validator(self, key: ObjectKey, version: str) -> jsonschema.protocols.Validator | None:
        cache_key = (key.group, key.kind, version)
        if cache_key not in self.compiled:
            schema = self.schemas[(key.group, key.kind)].get(version)
            self.compiled[cache_key] = (
                jsonschema.Draft4Validator(_openapi_to_jsonschema(schema)) if schema else None
            )
        return self.compiled[cache_key]


def _schema_errors(
    validator: jsonschema.protocols.Validator, manifest: Manifest, key: ObjectKey, what: str
) -> Iterator[Finding]:
    errors = sorted(validator.iter_errors(manifest), key=lambda e: [str(p) for p in e.path])
    for error in errors[:_MAX_ERRORS_PER_OBJECT]:
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        yield Finding("validate.schema", "error", key, f"{where}: {error.message} ({what})")
    if len(errors) > _MAX_ERRORS_PER_OBJECT:
        more = len(errors) - _MAX_ERRORS_PER_OBJECT
        yield Finding("validate.schema", "error", key, f"{more} more schema errors ({what})")


def _validate_custom(
    manifest: Manifest, key: ObjectKey, custom: _CustomValidators
) -> Iterator[Finding]:
    version = str(manifest.get("apiVersion", "")).rpartition("/")[2]
    if version not in custom.served(key):
        served = ", ".join(custom.served(key)) or "none"
        yield Finding(
            "validate.crd-version",
            "error",
            key,
            f"version {version!r} is not served by its CRD (served: {served})",
        )
        return
    validator = custom.validator(key, version)
    if validator is None:
        yield Finding("validate.no-schema", "warning", key, f"its CRD has no schema for {version}")
        return
    yield from _schema_errors(validator, manifest, key, f"CRD schema {version}")


def _without_schema_bodies(crd: Manifest) -> Manifest:
    """Return a CRD whose openAPIV3Schema bodies are empty (the input is not mutated).

    Checking a schema body against the recursive JSONSchemaProps definition is 70% of the
    time of a Kubeflow render's validation, and says little: the API server checks it
    for structural-schema rules that OpenAPI cannot express anyway, and this module
    compiles the bodies to validate the custom resources against them.
    """
    spec = crd.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("versions"), list):
        return crd
    versions = [
        {**v, "schema": {**v["schema"], "openAPIV3Schema": {}}}
        if isinstance(v, dict) and isinstance(v.get("schema"), dict)
        else v
        for v in spec["versions"]
    ]
    return {**crd, "spec": {**spec, "versions": versions}}


def _validate_one(
    manifest: Manifest, kubernetes_version: str | None, custom: _CustomValidators
) -> Iterator[Finding]:
    key = ObjectKey.of(manifest)
    if custom.knows(key):
        yield from _validate_custom(manifest, key, custom)
        return
    if kubernetes_version is None:
        return  # reported once for the whole plan
    api_version = str(manifest.get("apiVersion", ""))
    validator = _builtin_validator(kubernetes_version, api_version, key.kind)
    if validator is None:
        yield Finding(
            "validate.no-schema",
            "warning",
            key,
            f"not validated: no CRD in the plan and no Kubernetes {kubernetes_version} "
            f"schema for {api_version} {key.kind}",
        )
        return
    if key.kind == "CustomResourceDefinition":
        manifest = _without_schema_bodies(manifest)
    yield from _schema_errors(validator, manifest, key, f"Kubernetes {kubernetes_version}")


class Prevalidated:
    """Built-in objects validated while the rest of the release still renders.

    Rendering runs `kubectl kustomize` processes; validating each component's built-in
    objects as soon as it is parsed overlaps the two. A transform that changes an object
    returns a new manifest, so findings are kept by identity: an object the transforms
    left alone is not validated twice, a changed one is validated again.
    """

    def __init__(self, kubernetes_version: str) -> None:
        self.minor = _minor(kubernetes_version)
        self.found: dict[int, tuple[Manifest, list[Finding]]] = {}

    def add(self, manifests: Sequence[Manifest]) -> None:
        """Validate the built-in objects among `manifests` (custom ones wait for their CRD)."""
        if self.minor is None:
            return
        for manifest in manifests:
            key = ObjectKey.of(manifest)
            api_version = str(manifest.get("apiVersion", ""))
            validator = _builtin_validator(self.minor, api_version, key.kind)
            if validator is None or key.kind == "CustomResourceDefinition":
                continue
            what = f"Kubernetes {self.minor}"
            found = list(_schema_errors(validator, manifest, key, what))
            self.found[id(manifest)] = (manifest, found)

    def get(self, manifest: Manifest) -> list[Finding] | None:
        """Return the findings of `manifest` if this very object was validated."""
        hit = self.found.get(id(manifest))
        return hit[1] if hit is not None and hit[0] is manifest else None


def _duplicates(manifests: Sequence[Manifest]) -> Iterator[Finding]:
    seen: set[ObjectKey] = set()
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if key in seen:
            yield Finding("validate.duplicate", "error", key, "the plan holds this object twice")
        seen.add(key)


def check(
    manifests: Sequence[Manifest],
    settings: KubeflowSettings,
    *,
    prevalidated: Prevalidated | None = None,
) -> list[Finding]:
    """Validate against the schemas of the stack's Kubernetes version and the plan's CRDs."""
    return validate_objects(
        manifests, kubernetes_version=settings.kubernetes_version, prevalidated=prevalidated
    )


def validate_objects(
    manifests: Sequence[Manifest],
    *,
    kubernetes_version: str,
    prevalidated: Prevalidated | None = None,
) -> list[Finding]:
    """Validate every object against its schema; return the findings (errors and warnings).

    Args:
        manifests: the final objects.
        kubernetes_version: "1.34" style (a patch or leading "v" is accepted).
        prevalidated: findings of objects already validated (for the same version).

    Returns:
        Findings in object order. An unsupported version is one error naming the
        supported ones; custom resources are still checked against their CRDs.

    """
    findings = list(_duplicates(manifests))
    minor = _minor(kubernetes_version)
    if minor is None:
        supported = ", ".join(supported_kubernetes_versions())
        findings.append(
            Finding(
                "validate.kubernetes-version",
                "error",
                None,
                f"Kubernetes version {kubernetes_version!r} has no schema here "
                f"(supported: {supported}); built-in kinds were not validated",
            )
        )
    custom = _CustomValidators(manifests)
    for manifest in manifests:
        known = prevalidated.get(manifest) if prevalidated is not None else None
        findings.extend(known if known is not None else _validate_one(manifest, minor, custom))
    return findings
