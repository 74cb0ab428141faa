"""RBAC rules: roles that grant a way to more power, and who they are bound to.

Rules (all errors):

- ``policy.rbac-escalation``: a Role or ClusterRole with a rule that lets its holder gain
  more than it grants: the verbs ``escalate``, ``bind`` or ``impersonate`` (or ``*`` verbs
  on RBAC or users), ``create`` on ``serviceaccounts/token``, any verb on ``nodes/proxy``,
  or ``*`` over a built-in API group (``apiGroups: ["*"]``, or ``resources: ["*"]`` in a
  built-in group). ``*`` over a custom resource group of its own is not flagged.
- ``policy.rbac-aggregation``: such a ClusterRole labelled to aggregate into the
  platform's user roles (``kubeflow-edit``/``-admin``/``-view``) or Kubernetes' own
  ``admin``/``edit``/``view``: every member of every profile would hold it.
- ``policy.service-account-token``: a Secret of type ``kubernetes.io/service-account-token``:
  a token that never expires, valid until the Secret is deleted (pods get short-lived
  projected tokens; a client asks for one with the TokenRequest API).
- ``policy.rbac-binding``: a binding whose subject is ``system:anonymous`` or
  ``system:unauthenticated`` (any role), or grants a powerful role (not read-only) to
  ``system:authenticated``, a ``system:serviceaccounts*`` group, or a service account of a
  user namespace (a ClusterRoleBinding, or a RoleBinding outside the account's namespace).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.kubeflow.checks.pod_shapes import as_mapping
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.settings import KubeflowSettings

__all__ = ["check", "escalations", "user_namespaces"]

_RBAC = "rbac.authorization.k8s.io"
_ROLE_KINDS = frozenset({"Role", "ClusterRole"})
_BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})
_ESCALATING_VERBS = frozenset({"escalate", "bind", "impersonate"})
_READ_VERBS = frozenset({"get", "list", "watch"})
# API groups Kubernetes itself serves: a wildcard over them reaches pods, secrets, RBAC ...
BUILTIN_API_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "extensions",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        _RBAC,
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    }
)
# Roles Kubernetes ships that grant writes (the built-in read-only ones are `view` and the
# `system:` discovery roles); a binding to a role the plan does not hold is judged by name.
_POWERFUL_BUILTIN = frozenset({"cluster-admin", "admin", "edit", "system:masters"})
_AGGREGATE_LABELS = (
    "rbac.authorization.kubeflow.org/aggregate-to-kubeflow-",
    "rbac.authorization.k8s.io/aggregate-to-",
)
_ANONYMOUS = frozenset({"system:anonymous", "system:unauthenticated"})


def _words(value: object) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _rule_escalations(rule: Mapping[str, Any]) -> Iterator[str]:
    verbs, resources = _words(rule.get("verbs")), _words(rule.get("resources"))
    groups = _words(rule.get("apiGroups"))
    for verb in sorted(verbs & _ESCALATING_VERBS):
        yield f"verb {verb!r} on {sorted(resources)}"
    powers = {"*", "roles", "clusterroles", "users", "groups", "serviceaccounts"}
    if "*" in verbs and groups & {_RBAC, "", "*"} and resources & powers:
        yield f"verbs '*' on {sorted(resources)} (includes escalate, bind, impersonate)"
    if "serviceaccounts/token" in resources and verbs & {"create", "*"}:
        yield "create on serviceaccounts/token (mints tokens of service accounts)"
    if "nodes/proxy" in resources:
        yield "nodes/proxy (the kubelet API: exec into any pod of the node)"
    if "*" in groups:
        yield f"apiGroups '*' with resources {sorted(resources)}"
    elif "*" in resources and groups & BUILTIN_API_GROUPS:
        yield f"resources '*' in the built-in groups {sorted(groups & BUILTIN_API_GROUPS)}"


def escalations(role: Mapping[str, Any]) -> list[str]:
    """Return what in a Role or ClusterRole lets its holder gain power (empty if nothing)."""
    found: list[str] = []
    for i, rule in enumerate(role.get("rules") or ()):
        if isinstance(rule, Mapping):
            found += [f"rules[{i}]: {what}" for what in _rule_escalations(rule)]
    return found


def _read_only(role: Mapping[str, Any]) -> bool:
    for rule in role.get("rules") or ():
        if not isinstance(rule, Mapping):
            return False
        verbs, resources = _words(rule.get("verbs")), _words(rule.get("resources"))
        if verbs - _READ_VERBS or resources & {"secrets", "*"}:
            return False
    return not escalations(role)


def user_namespaces(manifests: Sequence[Manifest], settings: KubeflowSettings) -> set[str]:
    """Return the user (profile) namespaces: the stack's users' and every planned Profile's."""
    names = {user.profile for user in settings.users}
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if (key.group, key.kind) == ("kubeflow.org", "Profile"):
            names.add(key.name)
    return names


def _roles(manifests: Sequence[Manifest]) -> dict[tuple[str, str, str], Manifest]:
    roles = {}
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if key.group == _RBAC and key.kind in _ROLE_KINDS:
            roles[(key.kind, key.namespace, key.name)] = manifest
    return roles


def _powerful(role_ref: Mapping[str, Any], namespace: str, roles: Mapping[Any, Manifest]) -> bool:
    kind, name = str(role_ref.get("kind", "")), str(role_ref.get("name", ""))
    role = roles.get((kind, namespace if kind == "Role" else "", name))
    if role is None:
        # Not in the plan: Kubernetes' own role of that name, or one we cannot see.
        return name in _POWERFUL_BUILTIN or (not name.startswith("system:") and name != "view")
    return not _read_only(role)


def _subject_problem(
    subject: Mapping[str, Any], binding: ObjectKey, powerful: bool, users: set[str]
) -> str | None:
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    if name in _ANONYMOUS:
        return f"binds {kind} {name!r}: anyone who can reach the API server"
    if not powerful:
        return None
    if kind == "Group" and (
        name == "system:authenticated" or name.startswith("system:serviceaccounts")
    ):
        return f"grants a powerful role to the group {name!r}"
    account_namespace = str(subject.get("namespace", "")) if kind == "ServiceAccount" else ""
    if kind == "User" and name.startswith("system:serviceaccount:"):
        account_namespace = name.split(":")[2] if name.count(":") >= 3 else ""
    cross = binding.kind == "ClusterRoleBinding" or account_namespace != binding.namespace
    if account_namespace in users and cross:
        return (
            f"grants a powerful role to a service account of the user namespace "
            f"{account_namespace!r} ({name}) beyond its namespace"
        )
    return None


def _binding_findings(
    manifest: Manifest, key: ObjectKey, roles: Mapping[Any, Manifest], users: set[str]
) -> Iterator[Finding]:
    role_ref = as_mapping(manifest.get("roleRef"))
    powerful = _powerful(role_ref, key.namespace, roles)
    for subject in manifest.get("subjects") or ():
        if isinstance(subject, Mapping):
            problem = _subject_problem(subject, key, powerful, users)
            if problem:
                role = f"{role_ref.get('kind')} {role_ref.get('name')}"
                yield Finding.error("policy.rbac-binding", key, f"{problem} ({role})")


def _role_findings(manifest: Manifest, key: ObjectKey) -> Iterator[Finding]:
    found = escalations(manifest)
    for what in found:
        yield Finding.error(
            "policy.rbac-escalation", key, f"{what}: a way to more power than granted"
        )
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    folded = sorted(
        str(label)
        for label, value in labels.items()
        if str(label).startswith(_AGGREGATE_LABELS) and str(value) == "true"
    )
    if found and folded:
        yield Finding.error(
            "policy.rbac-aggregation",
            key,
            f"aggregates ({', '.join(folded)}) a role that escalates into the roles every "
            "profile member holds",
        )


def _is_token_secret(manifest: Manifest) -> bool:
    return str(manifest.get("type", "")).strip() == "kubernetes.io/service-account-token"


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The RBAC rules of this module (see the module docstring)."""
    roles = _roles(manifests)
    users = user_namespaces(manifests, settings)
    findings: list[Finding] = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if (key.group, key.kind) == ("", "Secret") and _is_token_secret(manifest):
            findings.append(
                Finding.error(
                    "policy.service-account-token",
                    key,
                    "a long-lived service account token (type kubernetes.io/"
                    "service-account-token): use a projected or TokenRequest token",
                )
            )
        if key.group != _RBAC:
            continue
        if key.kind in _ROLE_KINDS:
            findings.extend(_role_findings(manifest, key))
        elif key.kind in _BINDING_KINDS:
            findings.extend(_binding_findings(manifest, key, roles, users))
    return findings
