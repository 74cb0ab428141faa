"""Who reaches the predictor, hop by hop, with the release's own Istio objects.

The gateway's RequestAuthentications and policies are read from the 26.03 manifests as the
dev stack installs them (`m2m-dex-and-kind`: Dex and Kubernetes tokens at the gateway), and
the release's `kserve_test.sh` says why the predictor cannot ask for a request principal:
no RequestAuthentication selects its pods. `tests/istio_authz.py` applies Istio's rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.serving.access import ACTIVATOR_PRINCIPAL, INGRESS_GATEWAY_PRINCIPAL, predict_policy
from tests.conftest import KUBEFLOW_2603
from tests.istio_authz import Request, Token, Workload, allowed, authenticate

COMMON = KUBEFLOW_2603 / "common"
NS, OTHER_NS = "kubeflow-user-example-com", "kubeflow-user-other"
OWNER, OTHER = "user@example.com", "other@example.com"
DEX = "http://dex.auth.svc.cluster.local:5556/dex"
GATEWAY = Workload("istio-system", {"app": "istio-ingressgateway", "istio": "ingressgateway"})
PREDICTOR = Workload(
    NS, {"serving.knative.dev/service": "iris-predictor", "component": "predictor"}
)
EXTERNAL_PATH = f"/serving/{NS}/iris/v1/models/iris:predict"  # KServe's path-based route
POD_PATH = "/v1/models/iris:predict"  # what the predictor's sidecar sees after the rewrite


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _kind_issuer() -> str:
    """The m2m issuer the `m2m-dex-and-kind` overlay patches in (the stack's kind choice)."""
    kustomization = _load(COMMON / "oauth2-proxy/overlays/m2m-dex-and-kind/kustomization.yaml")
    for patch in kustomization["patches"]:
        for op in yaml.safe_load(patch["patch"]):
            if op["path"] == "/spec/jwtRules/0/issuer":
                return str(op["value"])
    raise AssertionError("m2m-dex-and-kind patches no issuer")


K8S = _kind_issuer()


def _authentications() -> list[dict[str, Any]]:
    m2m = _load(COMMON / "oauth2-proxy/components/istio-m2m/requestauthentication.yaml")
    m2m["spec"]["jwtRules"][0]["issuer"] = K8S
    dex = _load(
        COMMON / "oauth2-proxy/components/istio-external-auth/requestauthentication.dex-jwt.yaml"
    )
    return [m2m, dex]


def _platform_policies() -> list[dict[str, Any]]:
    auth = COMMON / "oauth2-proxy/components/istio-external-auth"
    return [
        _load(COMMON / "istio/istio-install/base/deny_all_authorizationpolicy.yaml"),
        _load(COMMON / "istio/istio-install/base/gateway_authorizationpolicy.yaml"),
        _load(auth / "authorizationpolicy.istio-ingressgateway-oauth2-proxy.yaml"),
        _load(auth / "authorizationpolicy.istio-ingressgateway-require-jwt.yaml"),
    ]


def _through_gateway(
    policy: dict[str, Any],
    token: Token | None,
    *,
    via_activator: bool,
    headers: dict[str, str] | None = None,
) -> bool:
    """A request from outside: the ingress gateway, then (maybe) the activator, then the pod."""
    authentications, policies = _authentications(), [*_platform_policies(), policy]
    sent = {**(headers or {}), **({"authorization": "Bearer <jwt>"} if token else {})}
    request = authenticate(
        authentications, GATEWAY, Request(EXTERNAL_PATH, token=token, headers=sent)
    )
    if request is None or not allowed(policies, GATEWAY, request):
        return False
    hop = INGRESS_GATEWAY_PRINCIPAL if not via_activator else ACTIVATOR_PRINCIPAL
    at_pod = authenticate(
        authentications,
        PREDICTOR,
        Request(POD_PATH, source_principal=hop, token=token, headers=request.headers),
    )
    assert at_pod is not None and at_pod.request_principal is None  # nothing selects the pod
    return allowed(policies, PREDICTOR, at_pod)


def _in_cluster(policy: dict[str, Any], namespace: str, account: str) -> bool:
    """A mesh call from a pod running as `account` of `namespace`, with its token."""
    token = Token(K8S, {"sub": f"system:serviceaccount:{namespace}:{account}"})
    principal = f"cluster.local/ns/{namespace}/sa/{account}"
    request = authenticate(
        _authentications(), PREDICTOR, Request(POD_PATH, source_principal=principal, token=token)
    )
    assert request is not None
    return allowed([*_platform_policies(), policy], PREDICTOR, request)


def _dex(email: str) -> Token:
    return Token(DEX, {"email": email, "sub": "Cg" + email, "groups": []})


def _m2m(namespace: str) -> Token:
    return Token(K8S, {"sub": f"system:serviceaccount:{namespace}:default-editor"})


POLICY = predict_policy("iris", NS, [OWNER])


@pytest.mark.parametrize("via_activator", [False, True], ids=["direct", "activator"])
def test_the_owner_through_the_gateway_is_allowed(via_activator: bool) -> None:
    assert _through_gateway(POLICY, _dex(OWNER), via_activator=via_activator)
    assert _through_gateway(POLICY, _m2m(NS), via_activator=via_activator)  # build/token


@pytest.mark.parametrize("via_activator", [False, True], ids=["direct", "activator"])
def test_another_profiles_user_is_denied(via_activator: bool) -> None:
    assert not _through_gateway(POLICY, _dex(OTHER), via_activator=via_activator)
    assert not _through_gateway(POLICY, _m2m(OTHER_NS), via_activator=via_activator)
    # a header naming the owner is overwritten by the gateway from the caller's own token
    forged = {"kubeflow-userid": OWNER}
    assert not _through_gateway(POLICY, _dex(OTHER), via_activator=via_activator, headers=forged)


def test_no_token_is_denied() -> None:
    assert not _through_gateway(POLICY, None, via_activator=False)
    assert not _through_gateway(
        POLICY, None, via_activator=False, headers={"kubeflow-userid": OWNER}
    )
    assert not _through_gateway(
        POLICY, Token("https://evil.example", {"sub": OWNER}), via_activator=False
    )


def test_a_service_account_of_the_namespace_in_cluster_is_allowed() -> None:
    assert _in_cluster(POLICY, NS, "default-editor")
    assert not _in_cluster(POLICY, OTHER_NS, "default-editor")


def test_the_policy_of_the_request_principal_fails_the_owner() -> None:
    """The earlier policy (`requestPrincipals: ["*"]`): no RequestAuthentication selects the
    predictor, so no request there has a principal: the owner gets 403, as kserve_test.sh says."""
    old = predict_policy("iris", NS, [OWNER])
    old["spec"]["rules"] = [
        {
            "from": [{"source": {"requestPrincipals": ["*"]}}],
            "to": [{"operation": {"paths": [POD_PATH]}}],
            "when": [{"key": "request.headers[kubeflow-userid]", "values": [OWNER]}],
        }
    ]
    assert not _through_gateway(old, _dex(OWNER), via_activator=False)
    script = KUBEFLOW_2603.parent / "release-tests/tests/kserve_test.sh"
    if script.is_file():  # scripts/fetch-shared does not fetch release-tests/ (yet)
        assert 'requestPrincipals: ["*"] cannot work' in script.read_text(encoding="utf-8")


def test_the_hops_principals_are_the_releases_service_accounts() -> None:
    serving = (COMMON / "knative/knative-serving/base/upstream/serving-core.yaml").read_text()
    assert ACTIVATOR_PRINCIPAL == "cluster.local/ns/knative-serving/sa/activator"
    assert "serviceAccountName: activator" in serving
    istio = "\n".join(p.read_text() for p in (COMMON / "istio/istio-install/base").glob("*.yaml"))
    assert INGRESS_GATEWAY_PRINCIPAL.rpartition("/")[2] in istio
