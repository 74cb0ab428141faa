"""Policy checks on the final objects: default credentials and secret tokens.

Rules (severity error unless noted):

- ``policy.default-credential``: a default credential of the Kubeflow manifests anywhere
  (any string of any object, and the decoded ``data`` of Secrets): the Dex user password
  12341234, its bcrypt hash (and any bcrypt hash of 12341234), minio123, the oauth2-proxy
  client and cookie secrets, Katib's MySQL root password "test" and the empty MySQL root
  password of KFP.
- ``policy.secret-not-token``: a Secret ``stringData`` value, or ``data`` value (raw or
  base64-decoded), that is not exactly a secret token: real values are substituted by
  the Pulumi shell and must never sit in the plan.
- ``policy.token-outside-secret``, ``policy.database-password``: see
  ``checks/secrets_scan.py``.

The Pod Security Standards (``policy.pod-security``, ``policy.allow-list``) are a check of
their own: ``checks/pod_security.py``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterator, Sequence

import bcrypt

from infra.kubeflow.checks.secrets_scan import check_secret_placement, strings_of
from infra.kubeflow.objects import SECRET_TOKEN_RE, Finding, Manifest, ObjectKey
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms.credentials import secret_homes

__all__ = ["DEFAULT_CREDENTIALS", "check_policy"]

DEX_DEFAULT_PASSWORD = "12341234"
# value -> what it is; every one of them is public in the Kubeflow manifests.
DEFAULT_CREDENTIALS: dict[str, str] = {
    DEX_DEFAULT_PASSWORD: "the Dex default user password",
    "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72": (
        "the bcrypt hash of the Dex default user password"
    ),
    "minio123": "the default object store (minio) secret key",
    "pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok": "the default OIDC / oauth2-proxy client secret",
    "7d16fee92f8d11b8940b081b3f8b8acb": "the default oauth2-proxy cookie secret",
}
# (namespace, Secret name) -> weak values that only count as defaults in that Secret.
DEFAULT_SECRET_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("kubeflow", "katib-mysql-secrets"): {"test": "Katib's default MySQL root password"},
    ("kubeflow", "mysql-secret"): {"": "an empty MySQL password (the KFP default)"},
}
_BCRYPT_RE = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")


@functools.cache
def _is_default_password_hash(candidate: str) -> bool:
    try:
        return bcrypt.checkpw(DEX_DEFAULT_PASSWORD.encode(), candidate.encode())
    except ValueError:
        return False


def _defaults_in(value: str) -> list[str]:
    found = [what for default, what in DEFAULT_CREDENTIALS.items() if default in value]
    for candidate in _BCRYPT_RE.findall(value):
        if candidate not in DEFAULT_CREDENTIALS and _is_default_password_hash(candidate):
            found.append("a bcrypt hash of the Dex default user password")
    return found


def _decode(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _secret_values(secret: Manifest) -> Iterator[tuple[str, str, str]]:
    """Yield (path, value as written, value as the pod sees it) of a Secret's data."""
    for field in ("data", "stringData"):
        for name, raw in (secret.get(field) or {}).items():
            text = "" if raw is None else str(raw)
            seen = text if field == "stringData" else (_decode(text) or text)
            yield f"{field}.{name}", text, seen


def _default_credentials(manifest: Manifest, key: ObjectKey, text: str) -> Iterator[Finding]:
    suspect = any(d in text for d in DEFAULT_CREDENTIALS) or _BCRYPT_RE.search(text)
    strings = list(strings_of(manifest)) if suspect else []
    if key.kind == "Secret" and not key.group:
        values = list(_secret_values(manifest))
        strings += [(f"{p} (decoded)", seen) for p, raw, seen in values if seen != raw]
        weak = DEFAULT_SECRET_VALUES.get((key.namespace, key.name), {})
        for path, _, seen in values:
            if seen in weak:
                yield Finding("policy.default-credential", "error", key, f"{path}: {weak[seen]}")
    for path, value in strings:
        for what in _defaults_in(value):
            yield Finding("policy.default-credential", "error", key, f"{path}: {what}")


def _secret_values_are_tokens(manifest: Manifest, key: ObjectKey) -> Iterator[Finding]:
    if key.kind == "Secret" and not key.group:
        for path, raw, seen in _secret_values(manifest):
            if not (SECRET_TOKEN_RE.fullmatch(raw) or SECRET_TOKEN_RE.fullmatch(seen)):
                yield Finding(
                    "policy.secret-not-token",
                    "error",
                    key,
                    f"{path} is not a secret token (a real value would be stored in the plan "
                    "and in Pulumi state in clear); it must come from a Pulumi secret",
                )


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The policy rules of this module (see the module docstring)."""
    del settings  # the same rules for every stack
    return check_policy(manifests)


def check_policy(manifests: Sequence[Manifest]) -> list[Finding]:
    """Return the credential findings of the final objects (secret values are tokens)."""
    findings: list[Finding] = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        # One JSON dump per object lets most objects skip the walk over every string.
        text = json.dumps(manifest)
        findings.extend(_default_credentials(manifest, key, text))
        findings.extend(_secret_values_are_tokens(manifest, key))
    findings.extend(check_secret_placement(manifests, homes=secret_homes()))
    return findings
