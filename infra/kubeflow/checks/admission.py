"""Admission webhooks: where they send what they intercept, and whether they see Secrets.

Rules (errors):

- ``policy.webhook-url``: a webhook whose ``clientConfig.url`` is set sends each admission
  request (the whole object) to that address instead of to a Service of the cluster; only
  an address inside the cluster (``*.svc``, ``*.svc.cluster.local``) is left to the graph.
- ``policy.webhook-unserved``: a webhook whose Service, or every workload behind it, is not
  in the plan: nothing the plan installs serves it, so the install graph cannot put it
  after its server, and it would intercept every install from the first wave on.
- ``policy.webhook-secrets``: a webhook whose rules match Secrets (``secrets`` or ``*`` in
  the core group or any group) receives every matched Secret's data in its requests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from infra.kubeflow.graph.webhooks import WEBHOOK_KINDS, backend_workloads, webhooks_of
from infra.kubeflow.objects import Finding, Manifest, ObjectKey
from infra.kubeflow.settings import KubeflowSettings

__all__ = ["check"]

_IN_CLUSTER = (".svc", ".svc.cluster.local")


def _leaves_cluster(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return not host.endswith(_IN_CLUSTER)


def _sees_secrets(rule: Mapping[str, Any]) -> bool:
    groups = {str(g) for g in rule.get("apiGroups") or ()}
    resources = {str(r).split("/")[0] for r in rule.get("resources") or ()}
    return bool(groups & {"", "*"}) and bool(resources & {"secrets", "*"})


def _unserved(manifest: Manifest, by_key: Mapping[ObjectKey, Manifest]) -> Iterator[Finding]:
    for webhook in webhooks_of(manifest):
        if webhook.service is None:
            continue  # a URL webhook: policy.webhook-url
        service, workloads = backend_workloads(webhook, by_key)
        if service is None or not workloads:
            namespace, name = webhook.service
            missing = "Service" if service is None else "workload behind the Service"
            yield Finding.error(
                "policy.webhook-unserved",
                webhook.config,
                f"webhook {webhook.name}: the {missing} {namespace}/{name} is not in the plan; "
                "nothing installed serves it, so it would intercept installs from the first "
                "wave on",
            )


def _webhook_findings(manifest: Manifest, key: ObjectKey) -> Iterator[Finding]:
    for webhook in manifest.get("webhooks") or ():
        if not isinstance(webhook, Mapping):
            continue
        name = webhook.get("name", "?")
        client = webhook.get("clientConfig") or {}
        url = client.get("url") if isinstance(client, Mapping) else None
        if url is not None and _leaves_cluster(str(url)):
            yield Finding.error(
                "policy.webhook-url",
                key,
                f"webhook {name} sends every request it intercepts to {url}, outside the "
                "cluster; a webhook must call a Service of the plan",
            )
        for rule in webhook.get("rules") or ():
            if isinstance(rule, Mapping) and _sees_secrets(rule):
                yield Finding.error(
                    "policy.webhook-secrets",
                    key,
                    f"webhook {name} intercepts Secrets (rule {dict(rule)}): it receives "
                    "their data in every request",
                )
                break


def check(manifests: Sequence[Manifest], settings: KubeflowSettings) -> list[Finding]:
    """The admission webhook rules of this module (see the module docstring)."""
    del settings  # the same rules for every stack
    findings: list[Finding] = []
    by_key = {ObjectKey.of(m): m for m in manifests}
    for key, manifest in by_key.items():
        if key.kind in WEBHOOK_KINDS and key.group == "admissionregistration.k8s.io":
            findings.extend(_webhook_findings(manifest, key))
            findings.extend(_unserved(manifest, by_key))
    return findings
