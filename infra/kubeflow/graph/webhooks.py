"""Which objects of a plan an admission webhook intercepts while they are installed.

Implements the parts of Kubernetes admission matching that decide install order:
rules (apiGroups, apiVersions, resources with "*" and subresources, operations, scope),
namespaceSelector, objectSelector and matchPolicy, plus the workloads behind the
webhook's Service.

Installing an object is a CREATE (or an UPDATE on a later `pulumi up`) of its own
resource, never of a subresource; installing a workload also makes its controller
CREATE pods from its template, so a workload is checked as the pods it will create too.
Rules with other operations (DELETE, CONNECT) never matter for an install.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.kubeflow.crds import CrdInfo, crds_of
from infra.kubeflow.objects import Manifest, ObjectKey
from infra.kubeflow.pods import SERVING_KINDS, labels_of, pod_template, selector_matches_labels

WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
_INSTALL_OPERATIONS = frozenset({"CREATE", "UPDATE", "*"})
_NAME_LABEL = "kubernetes.io/metadata.name"

# kind -> (resource, namespaced) of the built-in kinds a Kubeflow render holds.
BUILTIN_RESOURCES: dict[str, tuple[str, bool]] = {
    "Namespace": ("namespaces", False),
    "Pod": ("pods", True),
    "Service": ("services", True),
    "ServiceAccount": ("serviceaccounts", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "PersistentVolume": ("persistentvolumes", False),
    "Endpoints": ("endpoints", True),
    "LimitRange": ("limitranges", True),
    "ResourceQuota": ("resourcequotas", True),
    "Deployment": ("deployments", True),
    "StatefulSet": ("statefulsets", True),
    "DaemonSet": ("daemonsets", True),
    "ReplicaSet": ("replicasets", True),
    "Job": ("jobs", True),
    "CronJob": ("cronjobs", True),
    "HorizontalPodAutoscaler": ("horizontalpodautoscalers", True),
    "PodDisruptionBudget": ("poddisruptionbudgets", True),
    "NetworkPolicy": ("networkpolicies", True),
    "Ingress": ("ingresses", True),
    "IngressClass": ("ingressclasses", False),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "PriorityClass": ("priorityclasses", False),
    "StorageClass": ("storageclasses", False),
    "CustomResourceDefinition": ("customresourcedefinitions", False),
    "MutatingWebhookConfiguration": ("mutatingwebhookconfigurations", False),
    "ValidatingWebhookConfiguration": ("validatingwebhookconfigurations", False),
    "APIService": ("apiservices", False),
}


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Return whether a LabelSelector (matchLabels + matchExpressions) selects `labels`.

    A null or empty selector selects everything, as in admission webhooks.
    """
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    return all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or ())


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = str(expression.get("key", ""))
    operator = expression.get("operator")
    values = {str(v) for v in expression.get("values") or ()}
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise ValueError(f"unknown label selector operator {operator!r} for key {key!r}")


def guess_resource(kind: str) -> str:
    """Return the plural resource Kubernetes guesses for a kind (lower case, English plural)."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "i", "o", "u"):
        return lower[:-1] + "ies"
    return lower + "s"


@dataclass(frozen=True)
class Request:
    """One admission request that installing an object produces."""

    group: str
    version: str
    resource: str
    namespace: str
    labels: Mapping[str, str]
    namespace_labels: Mapping[str, str] | None  # None: namespaceSelector does not apply


@dataclass(frozen=True)
class Rule:
    """One RuleWithOperations of a webhook."""

    groups: frozenset[str]
    versions: frozenset[str]
    resources: frozenset[str]
    operations: frozenset[str]
    scope: str

    @classmethod
    def of(cls, rule: Mapping[str, Any]) -> Rule:
        """Build a rule from its manifest form."""
        return cls(
            frozenset(str(g) for g in rule.get("apiGroups") or ()),
            frozenset(str(v) for v in rule.get("apiVersions") or ()),
            frozenset(str(r) for r in rule.get("resources") or ()),
            frozenset(str(o) for o in rule.get("operations") or ()),
            str(rule.get("scope") or "*"),
        )

    def matches(self, request: Request, *, served: frozenset[str] | None) -> bool:
        """Return whether this rule intercepts `request` (served: versions of the resource)."""
        if not self.operations & _INSTALL_OPERATIONS:
            return False
        if self.scope == "Cluster" and request.namespace:
            return False
        if self.scope == "Namespaced" and not request.namespace:
            return False
        if "*" not in self.groups and request.group not in self.groups:
            return False
        # "*" and "*/*" cover the resource itself; "pods/status" style entries only subresources.
        if not self.resources & {"*", "*/*", request.resource}:
            return False
        return self._version_matches(request.version, served)

    def _version_matches(self, version: str, served: frozenset[str] | None) -> bool:
        if "*" in self.versions or version in self.versions:
            return True
        # matchPolicy Equivalent: the API server converts to a version the webhook names,
        # when the resource is served in it (unknown for built-ins: assume so).
        return served is None or bool(served & self.versions)


@dataclass(frozen=True)
class Webhook:
    """One webhook of a Mutating/ValidatingWebhookConfiguration."""

    config: ObjectKey
    name: str
    rules: tuple[Rule, ...]
    namespace_selector: Mapping[str, Any] | None
    object_selector: Mapping[str, Any] | None
    service: tuple[str, str] | None
    fails_closed: bool
    equivalent: bool

    def intercepts(self, request: Request, *, served: frozenset[str] | None) -> bool:
        """Return whether this webhook is called for `request`."""
        if not selector_matches(self.object_selector, request.labels):
            return False
        if request.namespace_labels is not None and not selector_matches(
            self.namespace_selector, request.namespace_labels
        ):
            return False
        versions = served if self.equivalent else frozenset()
        return any(rule.matches(request, served=versions) for rule in self.rules)


def webhooks_of(manifest: Manifest) -> list[Webhook]:
    """Return the webhooks of a webhook configuration manifest (empty for other kinds).

    failurePolicy defaults to Fail and matchPolicy to Equivalent (admissionregistration/v1).
    """
    if manifest.get("kind") not in WEBHOOK_KINDS:
        return []
    key = ObjectKey.of(manifest)
    found = []
    for hook in manifest.get("webhooks") or ():
        service = (hook.get("clientConfig") or {}).get("service")
        found.append(
            Webhook(
                config=key,
                name=str(hook.get("name", "")),
                rules=tuple(Rule.of(r) for r in hook.get("rules") or ()),
                namespace_selector=hook.get("namespaceSelector"),
                object_selector=hook.get("objectSelector"),
                service=(str(service.get("namespace", "")), str(service.get("name", "")))
                if service
                else None,
                fails_closed=(hook.get("failurePolicy") or "Fail") == "Fail",
                equivalent=(hook.get("matchPolicy") or "Equivalent") == "Equivalent",
            )
        )
    return found


@dataclass(frozen=True)
class ResourceTable:
    """How kinds of a plan map to resources: CRDs of the plan, then built-ins, then a guess."""

    custom: Mapping[tuple[str, str], tuple[str, bool, frozenset[str]]]

    @classmethod
    def of(cls, manifests: Sequence[Manifest]) -> ResourceTable:
        """Read (group, kind) -> (plural, namespaced, served versions) from the plan's CRDs."""
        return cls.from_crds(crds_of(manifests))

    @classmethod
    def from_crds(cls, crds: Mapping[tuple[str, str], CrdInfo]) -> ResourceTable:
        """Build the table from CRDs already read."""
        return cls({k: (c.plural, c.namespaced, c.served) for k, c in crds.items()})

    def namespaced(self, group: str, kind: str) -> bool | None:
        """Return whether a kind is namespaced (None if the plan does not say)."""
        if (group, kind) in self.custom:
            return self.custom[(group, kind)][1]
        if kind in BUILTIN_RESOURCES:
            return BUILTIN_RESOURCES[kind][1]
        return None

    def resource(self, group: str, kind: str) -> tuple[str, frozenset[str] | None]:
        """Return (plural resource, served versions or None if unknown) of a kind."""
        if (group, kind) in self.custom:
            plural, _, served = self.custom[(group, kind)]
            return plural, served
        if kind in BUILTIN_RESOURCES:
            return BUILTIN_RESOURCES[kind][0], None
        return guess_resource(kind), None


def namespace_labels(name: str, namespaces: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Return the labels a namespace has in the cluster: the plan's, plus the name label.

    A namespace the plan does not hold is assumed to carry only the name label that the
    API server sets on every namespace.
    """
    return {**namespaces.get(name, {}), _NAME_LABEL: name}


def install_requests(
    manifest: Manifest, table: ResourceTable, namespaces: Mapping[str, Mapping[str, str]]
) -> Iterator[tuple[Request, frozenset[str] | None]]:
    """Yield the admission requests (and served versions) that installing `manifest` makes."""
    key = ObjectKey.of(manifest)
    version = str(manifest.get("apiVersion", "")).rpartition("/")[2]
    resource, served = table.resource(key.group, key.kind)
    namespaced = table.namespaced(key.group, key.kind)
    # A cluster-scoped kind ignores a stray metadata.namespace (kustomize sets one on
    # cluster-scoped custom resources it does not know).
    namespace = key.namespace if namespaced is not False else ""
    if key.kind == "Namespace" and not key.group:
        ns_labels: dict[str, str] | None = {**labels_of(manifest), _NAME_LABEL: key.name}
    elif namespace:
        ns_labels = namespace_labels(namespace, namespaces)
    else:
        ns_labels = None  # cluster-scoped: namespaceSelector does not apply
    yield Request(key.group, version, resource, namespace, labels_of(manifest), ns_labels), served
    template = pod_template(manifest)
    if template is not None and template is not manifest and namespace:
        yield Request("", "v1", "pods", namespace, labels_of(template), ns_labels), None


def backend_workloads(
    webhook: Webhook, by_key: Mapping[ObjectKey, Manifest]
) -> tuple[ObjectKey | None, list[ObjectKey]]:
    """Return the webhook's Service (if in the plan) and the workloads that Service selects."""
    if webhook.service is None:
        return None, []
    namespace, name = webhook.service
    service_key = ObjectKey("", "Service", namespace, name)
    service = by_key.get(service_key)
    if service is None:
        return None, []
    selector = (service.get("spec") or {}).get("selector")
    workloads = [
        key
        for key, manifest in by_key.items()
        if key.kind in SERVING_KINDS
        and key.namespace == namespace
        and selector_matches_labels(selector, labels_of(pod_template(manifest) or {}))
    ]
    return service_key, sorted(workloads)
