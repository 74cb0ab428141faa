"""The mesh: Istio policies that open what Kubeflow's deny-by-default closes.

Kubeflow's Istio denies by default (``istio-system/global-deny-all``) and lets each
platform service in with an AuthorizationPolicy naming its callers. Rules (errors):

- ``policy.mesh-allow-all``: an ALLOW AuthorizationPolicy in ``istio-system`` (the mesh's
  root namespace: without a selector it applies everywhere) or a platform namespace
  (any namespace but the users' profiles) with a rule that matches every request: an
  empty rule, or one whose sources and operations are only wildcards
  (``principals: ["*"]`` aside, which still needs a mesh identity).
- ``policy.mesh-mtls-disabled``: a PeerAuthentication with mode ``DISABLE`` (for the
  workload or a port): plain text, no peer identity for the AuthorizationPolicies.
- ``policy.mesh-auth-filter``: an EnvoyFilter that touches the authentication filters
  (ext_authz, jwt_authn, rbac) or patches the ingress gateway's HTTP filters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.kubeflow.checks.pod_shapes import as_mapping
from infra.kubeflow.checks.rbac import user_namespaces
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.settings import KubeflowSettings

__all__ = ["check"]

_ISTIO_SECURITY = "security.istio.io"
_ROOT_NAMESPACE = "istio-system"
_WILDCARDS = frozenset({"*", "0.0.0.0/0", "::/0", "/*", "/**"})
_AUTH_FILTERS = ("ext_authz", "jwt_authn", "envoy.filters.http.rbac", "envoy.filters.network.rbac")
_GATEWAY_LABELS = frozenset({"ingressgateway", "istio-ingressgateway"})
_HTTP_PATCHES = frozenset({"HTTP_FILTER", "HTTP_ROUTE", "LISTENER", "NETWORK_FILTER"})


def _only_wildcards(clauses: object) -> bool:
    """Whether a `from`/`to` list leaves every request in (absent or only '*' values)."""
    if not clauses:
        return True
    if not isinstance(clauses, list):
        return False
    for clause in clauses:
        inner: object = next(iter(clause.values()), {}) if isinstance(clause, Mapping) else None
        if not isinstance(inner, Mapping):
            return False
        for field, values in inner.items():
            if str(field).startswith("not") or field in ("principals", "requestPrincipals"):
                return False
            if not isinstance(values, list) or not set(map(str, values)) <= _WILDCARDS:
                return False
    return True


def _allows_all(rule: object) -> bool:
    if not isinstance(rule, Mapping):
        return False
    return (
        not rule.get("when")
        and _only_wildcards(rule.get("from"))
        and _only_wildcards(rule.get("to"))
    )


def _authorization(spec: Mapping[str, Any], key: ObjectKey, users: set[str]) -> Iterator[Finding]:
    if spec.get("action", "ALLOW") != "ALLOW" or key.namespace in users:
        return
    rules = spec.get("rules") or []
    if isinstance(rules, list) and any(_allows_all(rule) for rule in rules):
        scope = (
            "every workload of the mesh"
            if key.namespace == _ROOT_NAMESPACE and not spec.get("selector")
            else f"the workloads it selects ({json.dumps(spec.get('selector') or 'all')})"
        )
        yield Finding.error(
            "policy.mesh-allow-all",
            key,
            f"allows every request, from anyone, to {scope} in a platform namespace",
        )


def _peer_authentication(spec: Mapping[str, Any], key: ObjectKey) -> Iterator[Finding]:
    modes = [("mtls", (spec.get("mtls") or {}).get("mode"))]
    ports = spec.get("portLevelMtls") or {}
    if isinstance(ports, Mapping):
        modes += [(f"port {port}", (mtls or {}).get("mode")) for port, mtls in ports.items()]
    for where, mode in modes:
        if str(mode).upper() == "DISABLE":
            yield Finding.error(
                "policy.mesh-mtls-disabled",
                key,
                f"{where}: mutual TLS DISABLE (plain text; callers have no identity to check)",
            )


def _envoy_filter(spec: Mapping[str, Any], key: ObjectKey) -> Iterator[Finding]:
    text = json.dumps(spec.get("configPatches") or [])
    touched = sorted(f for f in _AUTH_FILTERS if f in text)
    if touched:
        yield Finding.error("policy.mesh-auth-filter", key, f"patches the auth filters {touched}")
        return
    labels = ((spec.get("workloadSelector") or {}).get("labels")) or {}
    gateway = bool({str(v) for v in labels.values()} & _GATEWAY_LABELS) or (
        key.namespace == _ROOT_NAMESPACE and not labels
    )
    applies = {
        str(p.get("applyTo")) for p in spec.get("configPatches") or () if isinstance(p, Mapping)
    }
    if gateway and applies & _HTTP_PATCHES:
        yield Finding.error(
            "policy.mesh-auth-filter",
            key,
            f"patches the ingress gateway's {sorted(applies & _HTTP_PATCHES)} "
            "(where authentication runs)",
        )


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The mesh rules of this module (see the module docstring)."""
    users = user_namespaces(manifests, settings)
    findings: list[Finding] = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        spec = as_mapping(manifest.get("spec"))
        if key.group == _ISTIO_SECURITY and key.kind == "AuthorizationPolicy":
            findings.extend(_authorization(spec, key, users))
        elif key.group == _ISTIO_SECURITY and key.kind == "PeerAuthentication":
            findings.extend(_peer_authentication(spec, key))
        elif key.group == "networking.istio.io" and key.kind == "EnvoyFilter":
            findings.extend(_envoy_filter(spec, key))
    return findings
