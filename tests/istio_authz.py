"""Istio's authorization as a workload's sidecar (or a gateway) decides it, for tests.

A small restatement of Istio's documented rules (security/authorization and
security/authentication reference pages), enough to follow a predict request hop by hop:

- A policy or RequestAuthentication applies to a workload when it sits in the workload's
  namespace or the root namespace (`istio-system`) and its `selector.matchLabels` (if any)
  are all among the workload's labels; one in the root namespace without a selector applies
  to the whole mesh.
- RequestAuthentication: a token whose issuer an applicable `jwtRule` names gives the
  request principal `<iss>/<sub>` and writes `outputClaimToHeaders` (over any header the
  client sent); a token no applicable rule names is refused (401); with no applicable rule,
  the token is ignored (no request principal), as on the predictor's pods.
- AuthorizationPolicy: CUSTOM first (here oauth2-proxy, which refuses a request without a
  session), then DENY (any matching rule denies), then ALLOW: when any ALLOW policy applies,
  some rule of one must match (`global-deny-all`, `spec: {}`, applies and matches nothing).
- A rule matches when each of `from` (any source), `to` (any operation) and `when` (every
  condition) matches; values are exact, `prefix*`, `*suffix` or `*` (any non-empty); a
  `not*` field matches an absent value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

ROOT_NAMESPACE = "istio-system"
Manifest = Mapping[str, Any]


@dataclass(frozen=True)
class Workload:
    """A pod's namespace and labels: what selectors and namespaces see."""

    namespace: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Token:
    """A JWT as the gateway validates it: issuer and claims (signature taken as valid)."""

    issuer: str
    claims: Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    """One request arriving at one workload."""

    path: str
    source_principal: str | None = None  # the peer's mTLS identity, None for plain text
    token: Token | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    session: bool = False  # an oauth2-proxy session cookie
    request_principal: str | None = None


def _applies(obj: Manifest, workload: Workload) -> bool:
    namespace = obj["metadata"].get("namespace", ROOT_NAMESPACE)
    if namespace not in (ROOT_NAMESPACE, workload.namespace):
        return False
    wanted = (obj.get("spec") or {}).get("selector", {}).get("matchLabels", {})
    return all(workload.labels.get(k) == v for k, v in wanted.items())


def _match(value: str | None, patterns: Iterable[str]) -> bool:
    if not value:
        return False
    for pattern in patterns:
        if pattern in ("*", value):
            return True
        if pattern.endswith("*") and value.startswith(pattern[:-1]):
            return True
        if pattern.startswith("*") and value.endswith(pattern[1:]):
            return True
    return False


def _fields(spec: Mapping[str, Any], values: Mapping[str, str | None]) -> bool:
    for name, value in values.items():
        if name in spec and not _match(value, spec[name]):
            return False
        negated = "not" + name[0].upper() + name[1:]
        if negated in spec and _match(value, spec[negated]):
            return False
    return True


def _namespace(principal: str | None) -> str | None:
    parts = (principal or "").split("/")
    return parts[2] if len(parts) >= 5 and parts[1] == "ns" else None


def _condition(condition: Mapping[str, Any], request: Request) -> bool:
    key = str(condition["key"])
    if not (key.startswith("request.headers[") and key.endswith("]")):
        raise ValueError(f"condition key {key!r}: not modelled")
    value = request.headers.get(key[len("request.headers[") : -1].lower())
    return _fields(condition, {"values": value})


def _rule(rule: Mapping[str, Any], request: Request) -> bool:
    source = {
        "principals": request.source_principal,
        "requestPrincipals": request.request_principal,
        "namespaces": _namespace(request.source_principal),
    }
    sources = [s["source"] for s in rule.get("from", [])]
    operations = [o["operation"] for o in rule.get("to", [])]
    return (
        (not sources or any(_fields(s, source) for s in sources))
        and (not operations or any(_fields(o, {"paths": request.path}) for o in operations))
        and all(_condition(c, request) for c in rule.get("when", []))
    )


def authenticate(
    authentications: Sequence[Manifest], workload: Workload, request: Request
) -> Request | None:
    """The request after the workload's RequestAuthentications; None when refused (401)."""
    rules = [
        rule
        for ra in authentications
        if _applies(ra, workload)
        for rule in ra["spec"].get("jwtRules", [])
    ]
    token = request.token
    if token is None or not rules:
        return replace(request, request_principal=None)
    rule = next((r for r in rules if r["issuer"] == token.issuer), None)
    if rule is None:
        return None
    headers = dict(request.headers)
    for output in rule.get("outputClaimToHeaders", []):
        claim = token.claims.get(output["claim"])
        if claim is not None:
            headers[output["header"].lower()] = (
                ",".join(claim) if isinstance(claim, list) else str(claim)
            )
    principal = f"{token.issuer}/{token.claims.get('sub', '')}"
    return replace(request, headers=headers, request_principal=principal)


def allowed(policies: Sequence[Manifest], workload: Workload, request: Request) -> bool:
    """Whether the workload's sidecar lets `request` (already authenticated) through."""
    applicable = [p for p in policies if _applies(p, workload)]

    def matching(action: str) -> list[Manifest]:
        return [p for p in applicable if (p.get("spec") or {}).get("action", "ALLOW") == action]

    for policy in matching("CUSTOM"):  # oauth2-proxy: no session, no pass
        if any(_rule(r, request) for r in policy["spec"].get("rules", [])) and not request.session:
            return False
    for policy in matching("DENY"):
        if any(_rule(r, request) for r in policy["spec"].get("rules", [])):
            return False
    allows = matching("ALLOW")
    return not allows or any(
        _rule(r, request) for p in allows for r in (p.get("spec") or {}).get("rules", [])
    )
