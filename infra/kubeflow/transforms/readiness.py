"""Readiness annotations: `pulumi.com/waitFor` where the provider would not wait by itself."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from infra.kubeflow.graph.edges import CERT_MANAGER_GROUP, INJECT_CA_FROM
from infra.kubeflow.graph.webhooks import WEBHOOK_KINDS
from infra.kubeflow.objects import Manifest, ObjectKey, PlannedObject
from infra.kubeflow.settings import KubeflowSettings

WAIT_FOR = "pulumi.com/waitFor"
INJECT_CA_FROM_SECRET = "cert-manager.io/inject-ca-from-secret"
CRD_ESTABLISHED = "condition=Established"
CERTIFICATE_READY = "condition=Ready"
WEBHOOK_CA_INJECTED = "jsonpath={.webhooks[*].clientConfig.caBundle}"
CONVERSION_CA_INJECTED = "jsonpath={.spec.conversion.webhook.clientConfig.caBundle}"


def transform(
    objects: tuple[PlannedObject, ...], settings: KubeflowSettings
) -> tuple[PlannedObject, ...]:
    """Annotate CRDs, Certificates and CA-injected webhooks with what to await."""
    del settings
    annotated = add_readiness_annotations([o.manifest for o in objects])
    return tuple(
        o if m is o.manifest else replace(o, manifest=m)
        for o, m in zip(objects, annotated, strict=True)
    )


def _wait_for(manifest: Manifest) -> list[str]:
    """Return the readiness conditions the provider would not await by itself.

    CRDs: Established, else their custom resources fail with "no matches for kind".
    cert-manager Certificates: Ready, so the Secret they issue exists. Webhook
    configurations (and conversion-webhook CRDs) whose CA cert-manager's cainjector
    fills: until a caBundle is set, every call to the webhook fails TLS verification.
    """
    key = ObjectKey.of(manifest)
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    injected = INJECT_CA_FROM in annotations or INJECT_CA_FROM_SECRET in annotations
    conditions = []
    if key.kind == "CustomResourceDefinition" and key.group == "apiextensions.k8s.io":
        conditions.append(CRD_ESTABLISHED)
        conversion = (manifest.get("spec") or {}).get("conversion") or {}
        if injected and conversion.get("strategy") == "Webhook":
            conditions.append(CONVERSION_CA_INJECTED)
    elif key.group == CERT_MANAGER_GROUP and key.kind == "Certificate":
        conditions.append(CERTIFICATE_READY)
    elif key.kind in WEBHOOK_KINDS and injected:
        conditions.append(WEBHOOK_CA_INJECTED)
    return conditions


def add_readiness_annotations(manifests: Sequence[Manifest]) -> list[Manifest]:
    """Return the manifests with `pulumi.com/waitFor` where the provider would not wait.

    Several conditions are written as a JSON list (the provider ANDs them). An existing
    `pulumi.com/waitFor` is kept as the author's choice. The input is never mutated:
    a changed manifest is a new dict with new metadata and annotations (the rest is
    shared); an unchanged one is returned as is.
    """
    result = []
    for manifest in manifests:
        metadata = manifest.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        conditions = _wait_for(manifest)
        if not conditions or WAIT_FOR in annotations:
            result.append(manifest)
            continue
        value = conditions[0] if len(conditions) == 1 else json.dumps(conditions)
        result.append(
            {**manifest, "metadata": {**metadata, "annotations": {**annotations, WAIT_FOR: value}}}
        )
    return result
