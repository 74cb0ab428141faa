"""Who may call the predictor: an Istio AuthorizationPolicy in the serving namespace (pure).

Kubeflow's Istio setup denies by default (`istio-system/global-deny-all`), and a
Serverless predictor is reached through Knative's activator, which the Profile's own
`ns-owner-access-istio` policy does not cover. The release's own KServe test
(kubeflow/manifests `tests/`) allows its predictor with an ALLOW policy selecting
`serving.knative.dev/service: <name>-predictor` for requests carrying a validated JWT
(`requestPrincipals: ["*"]`). This policy does the same, narrowed to the model's
inference paths and to the serving namespace: its owners (the `kubeflow-userid` header
the gateway sets from a Dex token) and its ServiceAccounts (m2m tokens, whose subject
the gateway also puts in `kubeflow-userid`: `system:serviceaccount:<namespace>:<name>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.kubeflow import InstallPlan, Manifest
from infra.serving.storage import (
    STORE_ACCOUNT_NAME,
    ObjectStore,
    object_store,
    store_secret,
    store_service_account,
)

API_VERSION = "security.istio.io/v1"
USER_HEADER = "request.headers[kubeflow-userid]"


def inference_paths(model: str) -> list[str]:
    """The KServe v1 and v2 protocol paths of one model, as the predictor pod sees them."""
    return [
        f"/v1/models/{model}",
        f"/v1/models/{model}:predict",
        f"/v2/models/{model}",
        f"/v2/models/{model}/infer",
    ]


def predict_policy(model: str, namespace: str, owners: Sequence[str]) -> Manifest:
    """ALLOW the model's inference paths to the namespace's owners and ServiceAccounts."""
    callers = [*sorted(set(owners)), f"system:serviceaccount:{namespace}:*"]
    return {
        "apiVersion": API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {
            "name": f"{model}-predict",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kfstack"},
        },
        "spec": {
            "action": "ALLOW",
            "selector": {"matchLabels": {"serving.knative.dev/service": f"{model}-predictor"}},
            "rules": [
                {
                    "from": [{"source": {"requestPrincipals": ["*"]}}],
                    "to": [{"operation": {"paths": inference_paths(model)}}],
                    "when": [{"key": USER_HEADER, "values": callers}],
                }
            ],
        },
    }


@dataclass(frozen=True)
class ServingAccess:
    """What the predictor needs around it: store keys, its ServiceAccount, its callers."""

    store: ObjectStore | None
    objects: tuple[Manifest, ...]
    service_account: str | None


def serving_access(
    plan: InstallPlan, *, model: str, namespace: str, owners: Sequence[str]
) -> ServingAccess:
    """The Secret and ServiceAccount (when the plan has an object store) and the policy."""
    store = object_store(plan)
    objects: list[Manifest] = []
    account = None
    if store is not None:
        objects += [store_secret(store, namespace), store_service_account(namespace)]
        account = STORE_ACCOUNT_NAME
    objects.append(predict_policy(model, namespace, owners))
    return ServingAccess(store=store, objects=tuple(objects), service_account=account)
