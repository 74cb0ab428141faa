"""The rules that infer install-order edges between the objects of a plan.

Each rule reads a `PlanIndex` and yields `Edge(dependent, dependency, rule)`; graph.py
combines them. The rules:

- ``crd``: a custom resource depends on the CRD that defines its group and kind.
- ``namespace``: a namespaced object depends on its Namespace when the plan holds it.
- ``cert-manager``: an object annotated ``cert-manager.io/inject-ca-from: ns/name``
  depends on that Certificate; a Certificate depends on its Issuer/ClusterIssuer.
- ``pod-needs``: a workload depends on what its pods need to start: ServiceAccount
  (and the RBAC bound to it), ConfigMaps and Secrets it mounts or reads, and the
  Certificate whose ``secretName`` is a Secret it mounts that the plan does not hold.
- ``declared``: catalogue-declared edges.
- ``webhook-backend``: a failurePolicy Fail webhook configuration depends on its Service
  and the workloads behind it, so it only starts intercepting once it can answer.
- ``webhook``: an object a Fail webhook intercepts depends on the configuration and on
  the workloads behind it (the provider awaits them ready).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from infra.kubeflow.crds import crds_of
from infra.kubeflow.graph.webhooks import (
    Request,
    ResourceTable,
    Webhook,
    backend_workloads,
    install_requests,
    webhooks_of,
)
from infra.kubeflow.objects import DeclaredEdge, Manifest, ObjectKey
from infra.kubeflow.pods import labels_of, pod_references

INJECT_CA_FROM = "cert-manager.io/inject-ca-from"
CERT_MANAGER_GROUP = "cert-manager.io"
_BINDING_KINDS = frozenset({"RoleBinding", "ClusterRoleBinding"})


class Edge(NamedTuple):
    """`dependent` is installed after `dependency`, because of `rule`."""

    dependent: ObjectKey
    dependency: ObjectKey
    rule: str


@dataclass(frozen=True)
class PlanIndex:
    """Look-ups over the manifests of one plan, built once."""

    by_key: Mapping[ObjectKey, Manifest]
    crds: Mapping[tuple[str, str], ObjectKey]
    namespaces: Mapping[str, Mapping[str, str]]
    table: ResourceTable

    @classmethod
    def of(cls, manifests: Sequence[Manifest]) -> PlanIndex:
        """Index the manifests (a later duplicate key replaces an earlier one)."""
        by_key = {ObjectKey.of(m): m for m in manifests}
        infos = crds_of(by_key.values())
        crds = {group_kind: info.key for group_kind, info in infos.items()}
        namespaces = {
            key.name: labels_of(m)
            for key, m in by_key.items()
            if key.kind == "Namespace" and not key.group
        }
        return cls(by_key, crds, namespaces, ResourceTable.from_crds(infos))


def crd_edges(index: PlanIndex) -> Iterator[Edge]:
    """Yield: a custom resource depends on the CRD of its group and kind."""
    for key in index.by_key:
        crd = index.crds.get((key.group, key.kind))
        if crd is not None:
            yield Edge(key, crd, "crd")


def namespace_edges(index: PlanIndex) -> Iterator[Edge]:
    """Yield: a namespaced object depends on its Namespace when the plan holds it."""
    for key in index.by_key:
        if key.namespace and key.namespace in index.namespaces:
            yield Edge(key, ObjectKey("", "Namespace", "", key.namespace), "namespace")


def cert_manager_edges(index: PlanIndex) -> Iterator[Edge]:
    """Yield: inject-ca-from -> its Certificate; a Certificate -> its (Cluster)Issuer."""
    for key, manifest in index.by_key.items():
        annotations = (manifest.get("metadata") or {}).get("annotations") or {}
        source = str(annotations.get(INJECT_CA_FROM, ""))
        if "/" in source:
            namespace, _, name = source.partition("/")
            yield Edge(
                key, ObjectKey(CERT_MANAGER_GROUP, "Certificate", namespace, name), "cert-manager"
            )
        if key.group == CERT_MANAGER_GROUP and key.kind == "Certificate":
            ref = (manifest.get("spec") or {}).get("issuerRef") or {}
            kind = str(ref.get("kind") or "Issuer")
            namespace = key.namespace if kind == "Issuer" else ""
            group = str(ref.get("group") or CERT_MANAGER_GROUP)
            yield Edge(
                key, ObjectKey(group, kind, namespace, str(ref.get("name", ""))), "cert-manager"
            )


def _certificates_by_secret(index: PlanIndex) -> dict[tuple[str, str], list[ObjectKey]]:
    found: dict[tuple[str, str], list[ObjectKey]] = {}
    for key, manifest in index.by_key.items():
        if key.group == CERT_MANAGER_GROUP and key.kind == "Certificate":
            secret = str((manifest.get("spec") or {}).get("secretName", ""))
            found.setdefault((key.namespace, secret), []).append(key)
    return found


def _rbac_by_service_account(index: PlanIndex) -> dict[tuple[str, str], list[ObjectKey]]:
    """(namespace, ServiceAccount) -> the bindings naming it and the roles they grant."""
    found: dict[tuple[str, str], list[ObjectKey]] = {}
    for key, manifest in index.by_key.items():
        if key.kind not in _BINDING_KINDS or key.group != "rbac.authorization.k8s.io":
            continue
        ref = manifest.get("roleRef") or {}
        role_ns = key.namespace if ref.get("kind") == "Role" else ""
        role = ObjectKey(key.group, str(ref.get("kind", "")), role_ns, str(ref.get("name", "")))
        for subject in manifest.get("subjects") or ():
            if subject.get("kind") == "ServiceAccount":
                sa = (str(subject.get("namespace") or key.namespace), str(subject.get("name")))
                found.setdefault(sa, []).extend((key, role))
    return found


def pod_needs_edges(index: PlanIndex) -> Iterator[Edge]:
    """Yield: a workload depends on what its pods need to start (see `pod_references`)."""
    certificates = _certificates_by_secret(index)
    rbac = _rbac_by_service_account(index)
    for key, manifest in index.by_key.items():
        for kind, name in sorted(pod_references(manifest)):
            target = ObjectKey("", kind, key.namespace, name)
            if target in index.by_key:
                yield Edge(key, target, "pod-needs")
            elif kind == "Secret":
                for cert in certificates.get((key.namespace, name), ()):
                    yield Edge(key, cert, "pod-needs")
            if kind == "ServiceAccount":
                for grant in rbac.get((key.namespace, name), ()):
                    yield Edge(key, grant, "pod-needs")


def declared_edges(index: PlanIndex, declared: Sequence[DeclaredEdge]) -> Iterator[Edge]:
    """Yield: every object `dependent` selects depends on each `dependency` selects."""
    keys = sorted(index.by_key)
    for edge in declared:
        dependencies = [k for k in keys if edge.dependency.matches(k)]
        for dependent in (k for k in keys if edge.dependent.matches(k)):
            for dependency in dependencies:
                yield Edge(dependent, dependency, "declared")


def fail_closed_webhooks(index: PlanIndex) -> list[Webhook]:
    """Return the webhooks of the plan with failurePolicy Fail.

    An Ignore webhook that cannot be reached lets the request through, so it never
    blocks an install and yields no edge (what it would have mutated or validated while
    it was down goes through unchanged: acceptable for Kubeflow's Ignore webhooks,
    the KFP cache and the Istio config validator).
    """
    return [w for m in index.by_key.values() for w in webhooks_of(m) if w.fails_closed]


def all_webhooks(index: PlanIndex) -> list[Webhook]:
    """Return every webhook of the plan, whatever its failurePolicy."""
    return [w for m in index.by_key.values() for w in webhooks_of(m)]


def webhook_backend_edges(index: PlanIndex, webhooks: Sequence[Webhook]) -> Iterator[Edge]:
    """Yield: a webhook configuration depends on its Service and backend workloads.

    For every webhook, Fail or Ignore: a configuration registered before what serves it
    would send the API server's requests nowhere (refused, or let through unseen), so a
    webhook never comes first; it comes after what serves it and, when it fails closed,
    before what it admits (`webhook_edges`).
    """
    for webhook in webhooks:
        service, workloads = backend_workloads(webhook, index.by_key)
        for target in ([service] if service else []) + workloads:
            yield Edge(webhook.config, target, "webhook-backend")


def webhook_edges(
    index: PlanIndex, webhooks: Sequence[Webhook], backing: Mapping[ObjectKey, frozenset[ObjectKey]]
) -> Iterator[Edge]:
    """Yield: an object a Fail webhook intercepts depends on it and its backend workloads.

    `backing[config]` holds what the configuration itself is installed after (its own
    Service, workloads, their ServiceAccounts, RBAC, Secrets, Certificates, namespace...).
    Those objects are admitted before the webhook exists, so they never get an edge to
    it: that is what keeps a webhook from waiting on itself.
    """
    # The admission requests of each object, computed once for every webhook.
    requests = {
        key: tuple(install_requests(manifest, index.table, index.namespaces))
        for key, manifest in index.by_key.items()
    }
    for webhook in webhooks:
        _, workloads = backend_workloads(webhook, index.by_key)
        excluded = backing.get(webhook.config, frozenset()) | {webhook.config}
        for key, made in requests.items():
            if key in excluded or not _intercepted(webhook, made):
                continue
            for target in [webhook.config, *workloads]:
                yield Edge(key, target, "webhook")


def _intercepted(
    webhook: Webhook, requests: Sequence[tuple[Request, frozenset[str] | None]]
) -> bool:
    return any(webhook.intercepts(request, served=served) for request, served in requests)
