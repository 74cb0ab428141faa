"""Who may call the predictor: an Istio AuthorizationPolicy in the serving namespace (pure).

Kubeflow's Istio setup denies by default (`istio-system/global-deny-all`). A request from
outside is authenticated at the ingress gateway only: its RequestAuthentications (Dex and,
on kind, Kubernetes tokens) select the gateway's pods, validate the token and write the
caller into `kubeflow-userid` (the email of a Dex token, `system:serviceaccount:<ns>:<sa>`
of a Kubernetes one), overwriting what the client sent. No RequestAuthentication selects
the predictor's pods, so a request there has no request principal: the release's own
`kserve_test.sh` says `requestPrincipals: ["*"]` "cannot work here" and allows all.

This policy is narrower than the release's. It selects the predictor
(`serving.knative.dev/service: <model>-predictor`), only the model's inference paths, and:

- from the ingress gateway, or Knative's activator behind it (the hop a Serverless
  predictor is reached through), when `kubeflow-userid` is one of the namespace's owners or
  one of its ServiceAccounts;
- from the namespace's own workloads in the mesh (their mTLS identity).

What stays open: a workload of the mesh that calls the activator directly with a forged
`kubeflow-userid` (Knative's own policies let every caller reach it). Calls through Knative's
cluster-local gateway carry no caller identity unless the release's `m2m-auth` overlay
validates their token there; without it they are refused.
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
#: The hops in front of a Serverless predictor: the ingress gateway (which validates the
#: caller's token and writes `kubeflow-userid`) and Knative's activator behind it.
INGRESS_GATEWAY_PRINCIPAL = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
ACTIVATOR_PRINCIPAL = "cluster.local/ns/knative-serving/sa/activator"
FRONT_HOPS = (INGRESS_GATEWAY_PRINCIPAL, ACTIVATOR_PRINCIPAL)


def inference_paths(model: str) -> list[str]:
    """The KServe v1 and v2 protocol paths of one model, as the predictor pod sees them."""
    return [
        f"/v1/models/{model}",
        f"/v1/models/{model}:predict",
        f"/v2/models/{model}",
        f"/v2/models/{model}/infer",
    ]


def predict_policy(model: str, namespace: str, owners: Sequence[str]) -> Manifest:
    """ALLOW the model's inference paths to the namespace's owners and ServiceAccounts.

    Through the gateway (and the activator) by the `kubeflow-userid` the gateway wrote;
    in the mesh by the caller's namespace.
    """
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
                    "from": [{"source": {"principals": [*FRONT_HOPS]}}],
                    "to": [{"operation": {"paths": inference_paths(model)}}],
                    "when": [{"key": USER_HEADER, "values": callers}],
                },
                {
                    "from": [{"source": {"namespaces": [namespace]}}],
                    "to": [{"operation": {"paths": inference_paths(model)}}],
                },
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
