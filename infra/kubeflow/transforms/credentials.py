"""Replace every default credential of the release with secret tokens.

The release ships fixed credentials (Dex password 12341234 as a bcrypt hash, the
oauth2-proxy client and cookie secrets, minio/minio123, empty and "test" MySQL root
passwords). Each value becomes `secret_token(name)`; the plan lists a `SecretSpec` per
name used (`secrets_used`), which the Pulumi shell fills from stack config or generates.
Secret keys moved from `data` (base64) to `stringData` so the token is substituted as
plain text. The Dex users themselves are the users transform's.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import bcrypt

from infra.kubeflow.credential_specs import SECRETS
from infra.kubeflow.objects import (
    SECRET_TOKEN_RE,
    Manifest,
    PlannedObject,
    SecretSpec,
    secret_token,
)
from infra.kubeflow.pods import POD_TEMPLATE_KINDS, mutable_containers, pod_template
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms.users import DEX_HASH_ENV

DEX_HASH_COST = 12
_BCRYPT_ALPHABET = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)


def dex_password_hash(password: str, installation_salt: str) -> str:
    """Return the bcrypt hash Dex expects for `password`, stable within one installation.

    The bcrypt salt is HMAC-SHA256(installation_salt, password): `installation_salt` is
    random per stack and kept in its state, so a second `pulumi up` computes the identical
    hash and changes nothing, while two installations with the same password get different
    hashes (no precomputation across installations).
    """
    if not installation_salt:
        raise ValueError("the Dex password hash needs the installation's salt")
    key = installation_salt.encode()
    digest = hmac.new(key, password.encode(), hashlib.sha256).digest()
    salt_b64 = base64.b64encode(digest[:16]).rstrip(b"=").translate(_BCRYPT_ALPHABET)
    salt = b"$2b$%02d$" % DEX_HASH_COST + salt_b64
    return bcrypt.hashpw(password.encode(), salt).decode()


# Secret values derived from the value of another secret and the installation's salt
# (the token holds the derived one).
DERIVED: Mapping[str, Callable[[str, str], str]] = MappingProxyType(
    {"dex-user-password-hash": dex_password_hash}
)


@dataclass(frozen=True)
class SecretField:
    """One key of a release Secret that holds a default credential."""

    namespace: str
    name: re.Pattern[str]
    key: str
    secret: str


def _field(namespace: str, name: str, key: str, secret: str) -> SecretField:
    return SecretField(namespace, re.compile(name), key, secret)


SECRET_FIELDS: tuple[SecretField, ...] = (
    _field("auth", r"dex-passwords", DEX_HASH_ENV, "dex-user-password-hash"),
    _field("auth", r"dex-oidc-client", "OIDC_CLIENT_SECRET", "oauth2-proxy-client-secret"),
    _field(
        "oauth2-proxy", r"oauth2-proxy(-[a-z0-9]+)?", "client-secret", "oauth2-proxy-client-secret"
    ),
    _field(
        "oauth2-proxy", r"oauth2-proxy(-[a-z0-9]+)?", "cookie-secret", "oauth2-proxy-cookie-secret"
    ),
    _field("kubeflow", r"mlpipeline-minio-artifact", "accesskey", "object-store-access-key"),
    _field("kubeflow", r"mlpipeline-minio-artifact", "secretkey", "object-store-secret-key"),
    _field("kubeflow", r"mysql-secret", "password", "pipelines-db-password"),
    _field("kubeflow", r"katib-mysql-secrets", "MYSQL_ROOT_PASSWORD", "katib-db-password"),
    _field(
        "kubeflow",
        r"model-registry-db-secrets",
        "MYSQL_ROOT_PASSWORD",
        "model-registry-db-password",
    ),
)


def secret_homes() -> dict[str, frozenset[str]]:
    """Return secret name -> the namespaces whose Secrets may hold its token."""
    homes: dict[str, set[str]] = {}
    for f in SECRET_FIELDS:
        homes.setdefault(f.secret, set()).add(f.namespace)
    return {name: frozenset(spaces) for name, spaces in homes.items()}


# Keys of release Secrets that hold no secret (an OIDC client id, a database user name):
# their value moves into the pods that read it, and out of the Secret, so that a Secret
# holds secret tokens only.
PLAIN_FIELDS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("auth", re.compile(r"dex-oidc-client"), "OIDC_CLIENT_ID"),
    ("oauth2-proxy", re.compile(r"oauth2-proxy(-[a-z0-9]+)?"), "client-id"),
    ("kubeflow", re.compile(r"mysql-secret"), "username"),
    ("kubeflow", re.compile(r"model-registry-db-secrets"), "MYSQL_USER_NAME"),
)

# MySQL Deployments that run with an empty root password allowed: (namespace, name) ->
# the Secret key that must hold their root password.
_MYSQL_DEPLOYMENTS: Mapping[tuple[str, str], tuple[str, str] | None] = MappingProxyType(
    {
        ("kubeflow", "mysql"): ("mysql-secret", "password"),
        ("kubeflow", "katib-mysql"): None,
    }
)
_EMPTY_PASSWORD = "MYSQL_ALLOW_EMPTY_PASSWORD"


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Tokenise the release's default credentials (see `replace_credentials`)."""
    del settings  # the default credentials are the same in every release of the table
    return replace_credentials(objects)


def replace_credentials(objects: Sequence[PlannedObject]) -> tuple[PlannedObject, ...]:
    """Return the objects with every default credential tokenised.

    Also makes the MySQL servers require their root password.
    """
    out: list[PlannedObject] = []
    for obj in inline_plain_values(objects):
        manifest = obj.manifest
        kind = manifest.get("kind")
        if kind == "Secret":
            manifest = _tokenise_secret(manifest)
        elif kind == "Deployment":
            manifest = _require_mysql_password(manifest)
        elif kind == "ConfigMap":
            manifest = _configmap(manifest)
        out.append(obj if manifest is obj.manifest else replace(obj, manifest=manifest))
    return tuple(out)


def secrets_used(objects: Sequence[PlannedObject]) -> tuple[SecretSpec, ...]:
    """Return the SecretSpec of every secret token in the Secrets of `objects`, by name.

    Tokens outside Secrets are a policy finding (`policy.token-outside-secret`).
    """
    used: set[str] = set()
    for obj in objects:
        if obj.key.kind == "Secret" and not obj.key.group:
            for field in ("stringData", "data"):
                for value in (obj.manifest.get(field) or {}).values():
                    used.update(SECRET_TOKEN_RE.findall(str(value)))
    return tuple(SECRETS[name] for name in sorted(used) if name in SECRETS)


def inline_plain_values(objects: Sequence[PlannedObject]) -> tuple[PlannedObject, ...]:
    """Return the objects with PLAIN_FIELDS moved from their Secrets into the pods using them.

    An `env` entry reading the key becomes a literal value; a container importing the
    whole Secret (`envFrom`) gets an explicit `env` entry, which takes precedence.
    """
    values: dict[tuple[str, str, str], str] = {}
    for obj in objects:
        if obj.key.kind == "Secret" and not obj.key.group:
            for namespace, pattern, key in PLAIN_FIELDS:
                if obj.key.namespace == namespace and pattern.fullmatch(obj.key.name):
                    value = _secret_value(obj.manifest, key)
                    if value is not None:
                        values[(namespace, obj.key.name, key)] = value
    if not values:
        return tuple(objects)
    out = []
    for obj in objects:
        manifest = obj.manifest
        if obj.key.kind == "Secret" and any(
            k[:2] == (obj.key.namespace, obj.key.name) for k in values
        ):
            manifest = _drop_keys(
                manifest, [k[2] for k in values if k[:2] == (obj.key.namespace, obj.key.name)]
            )
        elif obj.key.kind in POD_TEMPLATE_KINDS:
            manifest = _inline_env(manifest, obj.key.namespace, values)
        out.append(obj if manifest is obj.manifest else replace(obj, manifest=manifest))
    return tuple(out)


def _secret_value(manifest: Manifest, key: str) -> str | None:
    string_data = manifest.get("stringData") or {}
    if key in string_data:
        return str(string_data[key])
    data = manifest.get("data") or {}
    if key in data:
        return base64.b64decode(str(data[key])).decode()
    return None


def _drop_keys(manifest: Manifest, keys: Sequence[str]) -> Manifest:
    new = copy.deepcopy(manifest)
    for field in ("data", "stringData"):
        section = new.get(field)
        if isinstance(section, dict):
            for key in keys:
                section.pop(key, None)
            if not section:
                del new[field]
    return new


def _inline_env(
    manifest: Manifest, namespace: str, values: Mapping[tuple[str, str, str], str]
) -> Manifest:
    def lookup(name: str, key: str) -> str | None:
        return values.get((namespace, name, key))

    new = copy.deepcopy(manifest)
    changed = False
    for container in mutable_containers(new):
        env = container.get("env") or []
        for entry in env:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef") or {}
            value = lookup(str(ref.get("name")), str(ref.get("key")))
            if value is not None:
                entry.pop("valueFrom")
                entry["value"] = value
                changed = True
        names = {e.get("name") for e in env}
        for source in container.get("envFrom") or []:
            secret = str((source.get("secretRef") or {}).get("name"))
            for (ns, name, key), value in sorted(values.items()):
                if (ns, name) == (namespace, secret) and key not in names:
                    env.append({"name": (source.get("prefix") or "") + key, "value": value})
                    names.add(key)
                    changed = True
        if env:
            container["env"] = env
    return new if changed else manifest


def _meta(manifest: Manifest) -> tuple[str, str]:
    meta = manifest.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _tokenise_secret(manifest: Manifest) -> Manifest:
    namespace, name = _meta(manifest)
    fields = [f for f in SECRET_FIELDS if f.namespace == namespace and f.name.fullmatch(name)]
    if not fields:
        return manifest
    new = copy.deepcopy(manifest)
    data = new.get("data") or {}
    string_data = new.get("stringData") or {}
    for f in fields:
        if f.key in data or f.key in string_data:
            data.pop(f.key, None)
            string_data[f.key] = secret_token(f.secret)
    if data:
        new["data"] = data
    else:
        new.pop("data", None)
    new["stringData"] = dict(sorted(string_data.items()))
    return new


def _require_mysql_password(manifest: Manifest) -> Manifest:
    where = _meta(manifest)
    if where not in _MYSQL_DEPLOYMENTS:
        return manifest
    root_password = _MYSQL_DEPLOYMENTS[where]
    new = copy.deepcopy(manifest)
    for container in ((pod_template(new) or {}).get("spec") or {}).get("containers") or []:
        env = [e for e in container.get("env", []) if e.get("name") != _EMPTY_PASSWORD]
        names = {e.get("name") for e in env}
        if root_password is not None and "MYSQL_ROOT_PASSWORD" not in names:
            secret, key = root_password
            env.append(
                {
                    "name": "MYSQL_ROOT_PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": secret, "key": key}},
                }
            )
        container["env"] = env
    return new


def _configmap(manifest: Manifest) -> Manifest:
    _, name = _meta(manifest)
    data = manifest.get("data") or {}
    if name == "model-registry-db-parameters" and _EMPTY_PASSWORD in data:
        new = copy.deepcopy(manifest)
        del new["data"][_EMPTY_PASSWORD]
        return new
    return manifest
