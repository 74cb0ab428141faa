"""What opens the platform around its gateway, or onto a node's disk.

Rules (errors):

- ``policy.exposed-service``: a Service of type ``LoadBalancer`` or ``NodePort``, or with
  ``externalIPs``, other than the stack's ingress gateway (whose exposure the cluster kind
  decides, see ``transforms/gateway.py``): it reaches its pods (a database, the object
  store, the Model Registry ...) from outside the cluster, without the gateway's
  authentication. A ``loadBalancerSourceRanges`` open to every address is named too.
- ``policy.host-volume``: a PersistentVolume backed by ``hostPath`` or ``local``: a node's
  disk, readable by whoever claims it; worse when pre-bound (``claimRef``) to a claim of a
  user namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.kubeflow.checks.pod_shapes import as_mapping
from infra.kubeflow.checks.rbac import user_namespaces
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.pods import labels_of, pod_template, selector_matches_labels
from infra.kubeflow.settings import KubeflowSettings
from infra.kubeflow.transforms.gateway import GATEWAY

__all__ = ["check"]

_EXPOSED_TYPES = frozenset({"LoadBalancer", "NodePort"})
_OPEN_RANGES = frozenset({"0.0.0.0/0", "::/0"})


def _behind(service: Mapping[str, Any], key: ObjectKey, manifests: Sequence[Manifest]) -> str:
    selector = (service.get("spec") or {}).get("selector")
    names = []
    for manifest in manifests:
        template = pod_template(manifest)
        workload = ObjectKey.of(manifest)
        if (
            template is not None
            and workload.namespace == key.namespace
            and selector_matches_labels(selector, labels_of(template))
        ):
            names.append(f"{workload.kind} {workload.name}")
    return ", ".join(names) or "the pods its selector picks"


def _service_findings(
    manifest: Manifest, key: ObjectKey, manifests: Sequence[Manifest]
) -> Iterator[Finding]:
    spec = as_mapping(manifest.get("spec"))
    kind = str(spec.get("type") or "ClusterIP")
    problems = []
    if kind in _EXPOSED_TYPES:
        problems.append(f"type {kind}")
    if spec.get("externalIPs"):
        problems.append(f"externalIPs {spec.get('externalIPs')}")
    ranges = {str(r) for r in spec.get("loadBalancerSourceRanges") or ()}
    if ranges & _OPEN_RANGES:
        problems.append(f"loadBalancerSourceRanges open to {sorted(ranges & _OPEN_RANGES)}")
    if problems:
        yield Finding.error(
            "policy.exposed-service",
            key,
            f"{'; '.join(problems)} exposes {_behind(manifest, key, manifests)} outside the "
            "cluster, around the gateway's authentication",
        )


def _volume_findings(manifest: Manifest, key: ObjectKey, users: set[str]) -> Iterator[Finding]:
    spec = as_mapping(manifest.get("spec"))
    for source in ("hostPath", "local"):
        if source in spec:
            where = as_mapping(spec.get(source)).get("path", "?")
            claim = as_mapping(spec.get("claimRef"))
            bound = ""
            if claim:
                namespace = str(claim.get("namespace", ""))
                bound = f", pre-bound to the claim {namespace}/{claim.get('name')}" + (
                    " of a user namespace" if namespace in users else ""
                )
            yield Finding.error(
                "policy.host-volume",
                key,
                f"a {source} volume ({where}): a node's disk for whoever claims it{bound}",
            )


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The exposure rules of this module (see the module docstring)."""
    users = user_namespaces(manifests, settings)
    findings: list[Finding] = []
    for manifest in manifests:
        key = ObjectKey.of(manifest)
        if key.group:
            continue
        if key.kind == "Service" and key != GATEWAY:
            findings.extend(_service_findings(manifest, key, manifests))
        elif key.kind == "PersistentVolume":
            findings.extend(_volume_findings(manifest, key, users))
    return findings
