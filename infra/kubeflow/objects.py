"""The shared vocabulary of the install plan: object keys, planned objects, the plan.

Plain frozen data, no Pulumi. Manifests are plain dicts (as YAML loads them); the
core never mutates a manifest it was given, it returns new ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Manifest = dict[str, Any]

# A secret value in a manifest is this token until the Pulumi shell substitutes the
# Output value; `kfstack plan` never sees a real secret.
SECRET_TOKEN = "{{kfstack.secret:%s}}"
SECRET_TOKEN_RE = re.compile(r"\{\{kfstack\.secret:([a-z0-9][a-z0-9.-]*)\}\}")


def secret_token(name: str) -> str:
    """Return the placeholder that stands for the secret `name` inside a manifest."""
    return SECRET_TOKEN % name


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identity of a Kubernetes object: group, kind, namespace ('' if cluster-scoped), name."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ObjectKey:
        """Return the key of a manifest."""
        api_version = str(manifest.get("apiVersion", ""))
        group = api_version.rpartition("/")[0]
        meta = manifest.get("metadata") or {}
        return cls(
            group,
            str(manifest.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name", "")),
        )

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{kind} {where}{self.name}"

    @property
    def resource_name(self) -> str:
        """A stable, unique Pulumi resource name for this object."""
        parts = [self.kind.lower(), self.group or "core", self.namespace or "_", self.name]
        return ":".join(parts)


# "allowed": an error the release table or the stack allows, kept in the plan with its reason.
Severity = Literal["error", "warning", "allowed"]


@dataclass(frozen=True)
class Finding:
    """One result of validation or policy on the final objects."""

    rule: str
    severity: Severity
    key: ObjectKey | None
    message: str

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"[{self.severity}] {self.rule}: {where}{self.message}"

    @classmethod
    def error(cls, rule: str, key: ObjectKey | None, message: str) -> Finding:
        """Return an error finding of `rule` on `key`."""
        return cls(rule, "error", key, message)

    def allowed(self, reason: str) -> Finding:
        """Return this finding as an allowed one: it stays in the plan, with `reason`."""
        return Finding(self.rule, "allowed", self.key, f"{self.message} -- allowed: {reason}")


@dataclass(frozen=True)
class SecretSpec:
    """A credential the platform needs: from stack config when given, else generated.

    `length` and `special` describe the generated value (pulumi_random.RandomPassword).
    """

    name: str
    description: str
    config_key: str
    length: int = 32
    special: bool = False


Origin = Literal["release", "stack"]


@dataclass(frozen=True)
class PlannedObject:
    """One final object of the plan.

    Attributes:
        key: its identity.
        manifest: the final manifest (secret values are `secret_token`s).
        component: the catalogue component it came from.
        origin: "release" if `kubectl kustomize` of the release renders it, "stack" if
            the stack's own settings added it (users' Profiles, for example).
        holds_data: PVCs, databases, object store: protected/retained when the stack says so.
        reason: for origin "stack", why it was added.
    """

    key: ObjectKey
    manifest: Manifest
    component: str
    origin: Origin = "release"
    holds_data: bool = False
    reason: str = ""


@dataclass(frozen=True)
class InstallPlan:
    """The pure core's answer: final objects, their dependency edges and what was found."""

    release: str
    components: tuple[str, ...]
    objects: tuple[PlannedObject, ...]
    # key -> the keys it must be installed after (only keys of this plan).
    edges: Mapping[ObjectKey, frozenset[ObjectKey]]
    waves: tuple[tuple[ObjectKey, ...], ...]
    critical_path: tuple[ObjectKey, ...]
    secrets: tuple[SecretSpec, ...] = ()
    findings: tuple[Finding, ...] = ()
    source_digest: str = ""
    # Components planned as rendered: example entries the release's table does not know.
    unknown_components: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that fail the plan."""
        return tuple(f for f in self.findings if f.severity == "error")


@dataclass(frozen=True)
class ObjectMatch:
    """Selects objects by key fields; a field left None matches anything."""

    kind: str | None = None
    group: str | None = None
    namespace: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        kind = self.kind or "*"
        kind = f"{kind}.{self.group}" if self.group else kind
        where = f"{self.namespace}/" if self.namespace else ("" if self.namespace == "" else "*/")
        return f"{kind} {where}{self.name or '*'}"

    @classmethod
    def parse(cls, text: str) -> ObjectMatch:
        """Read the form `__str__` writes: `Kind.group namespace/name`.

        `*` stands for any value; a kind without `.group` matches any group, and a name
        without `namespace/` a cluster-scoped object (`*/name`: any namespace).

        Raises:
            ValueError: `text` is not two words.

        """
        words = text.split()
        if len(words) != 2:
            raise ValueError(f"object match {text!r}: want 'Kind.group namespace/name'")
        kind, _, group = words[0].partition(".")
        namespace, _, name = words[1].rpartition("/") if "/" in words[1] else ("", "", words[1])

        def any_or(value: str) -> str | None:
            return None if value == "*" else value

        return cls(any_or(kind), group or None, any_or(namespace), any_or(name))

    def matches(self, key: ObjectKey) -> bool:
        """Return whether `key` is selected."""
        return all(
            want is None or want == have
            for want, have in (
                (self.kind, key.kind),
                (self.group, key.group),
                (self.namespace, key.namespace),
                (self.name, key.name),
            )
        )


@dataclass(frozen=True)
class DeclaredEdge:
    """An ordering that inference cannot see, declared once per component in the catalogue.

    Every object selected by `dependent` is installed after every object selected by
    `dependency` (both within the plan).
    """

    dependent: ObjectMatch
    dependency: ObjectMatch
    reason: str
