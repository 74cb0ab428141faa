"""Where secrets may sit in the final objects, and database passwords in any env.

Rule ``policy.token-outside-secret`` (error): a secret token anywhere but in the data of a
Secret in a namespace that token belongs to (the namespaces of the release Secrets the
credential replaces). A token in a ConfigMap, a pod spec, an annotation or another
namespace's Secret would put the real value there in clear, or hand it to that namespace.

Rule ``policy.database-password`` (error): an env var (in any container of any pod spec,
custom resources included, or a ConfigMap key read as env) that lets a database start with
an empty password (``MYSQL_ALLOW_EMPTY_PASSWORD`` and the like, or
``POSTGRES_HOST_AUTH_METHOD=trust``), or a password env var set in clear to an empty or
well-known value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.kubeflow.checks.pod_security import pod_specs
from infra.kubeflow.objects import SECRET_TOKEN_RE, Finding, Manifest, ObjectKey

__all__ = ["check_secret_placement", "database_password_problem"]

# Env vars that let a database accept an empty (or no) password when truthy.
EMPTY_PASSWORD_SWITCHES = frozenset(
    {
        "MYSQL_ALLOW_EMPTY_PASSWORD",
        "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
        "MARIADB_ALLOW_EMPTY_PASSWORD",
        "ALLOW_EMPTY_PASSWORD",
    }
)
_TRUTHY = frozenset({"1", "true", "yes", "y", "on"})
_PASSWORD_NAME = re.compile(r"(^|_)(ROOT_)?(PASSWORD|PASSWD|PASS|PWD)$", re.IGNORECASE)
# Values a password never may have: empty, and the ones every scanner tries first.
WELL_KNOWN_PASSWORDS = frozenset(
    {
        "",
        "test",
        "password",
        "passw0rd",
        "root",
        "admin",
        "changeme",
        "secret",
        "mysql",
        "postgres",
        "minio123",
        "12341234",
        "123456",
    }
)


def database_password_problem(name: str, value: object) -> str | None:
    """Return why env `name=value` leaves a database open, or None if it does not."""
    text = "" if value is None else str(value)
    upper = name.upper()
    if upper in EMPTY_PASSWORD_SWITCHES and text.strip().lower() in _TRUTHY:
        return f"{name}={text} lets the database run with an empty password"
    if upper == "POSTGRES_HOST_AUTH_METHOD" and text.strip().lower() == "trust":
        return f"{name}=trust lets anyone connect without a password"
    if _PASSWORD_NAME.search(name) and text.strip().lower() in WELL_KNOWN_PASSWORDS:
        shown = "empty" if not text.strip() else f"the well-known {text!r}"
        return f"{name} is {shown}; take it from a Secret (a Pulumi secret)"
    return None


def _literal_envs(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (container name, env entry) of every literal env var of a pod spec."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(field) or ():
            if not isinstance(container, Mapping):
                continue
            for env in container.get("env") or ():
                if isinstance(env, Mapping) and "valueFrom" not in env:
                    yield str(container.get("name", "?")), env


def _env_findings(manifest: Manifest, key: ObjectKey) -> Iterator[Finding]:
    if key.kind == "CustomResourceDefinition":
        return
    for path, spec in pod_specs(manifest):
        for container, env in _literal_envs(spec):
            problem = database_password_problem(str(env.get("name")), env.get("value"))
            if problem:
                where = f"{path} container {container} env"
                yield Finding("policy.database-password", "error", key, f"{where}: {problem}")
    if key.kind == "ConfigMap" and not key.group:
        for name, value in (manifest.get("data") or {}).items():
            problem = database_password_problem(str(name), value)
            if problem and str(name).upper() in EMPTY_PASSWORD_SWITCHES:
                yield Finding("policy.database-password", "error", key, f"data.{name}: {problem}")


def _token_findings(
    manifest: Manifest, key: ObjectKey, homes: Mapping[str, frozenset[str]]
) -> Iterator[Finding]:
    if "{{kfstack.secret:" not in json.dumps(manifest):
        return
    is_secret = key.kind == "Secret" and not key.group
    for path, value in strings_of(manifest):
        for name in SECRET_TOKEN_RE.findall(value):
            home = homes.get(name, frozenset())
            in_data = is_secret and path.split(".", 1)[0] in ("data", "stringData")
            if in_data and key.namespace in home:
                continue
            where = (
                f"a Secret of namespace {key.namespace!r}"
                if in_data
                else f"a {key.kind} (not a Secret's data)"
            )
            allowed = ", ".join(sorted(home)) or "none: it is not a known credential"
            yield Finding(
                "policy.token-outside-secret",
                "error",
                key,
                f"{path} holds the secret {name!r} in {where}: the value would be written "
                f"in clear there; it may only sit in a Secret's data in: {allowed}",
            )


def check_secret_placement(
    manifests: Sequence[Manifest], *, homes: Mapping[str, frozenset[str]]
) -> list[Finding]:
    """Return token-placement and database-password findings of the final objects.

    Args:
        manifests: the final objects.
        homes: secret name -> the namespaces whose Secrets may hold it.

    """
    findings: list[Finding] = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        findings.extend(_token_findings(manifest, key, homes))
        findings.extend(_env_findings(manifest, key))
    return findings


def strings_of(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (path, value) of every string in a manifest."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from strings_of(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings_of(value, f"{path}[{i}]")
