"""The rollout check as a Pulumi dynamic resource: fail `pulumi up` with KServe's reason.

It runs beside the InferenceService (same dependencies, so it starts when the
InferenceService is applied), reads it through the API server with the stack's own
kubeconfig and applies `infra.serving.rollout`: done at Ready, an error at a terminal
KServe failure or at `serving.readyTimeout`. The provider's own waitFor keeps waiting
until the timeout; this one says why, as soon as KServe knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi.dynamic as dyn

from infra.registry.kubeconfig import RegistryEndpoint, load_kubeconfig, open_session
from infra.serving.rollout import await_rollout, seconds

API_PATH = "/apis/serving.kserve.io/v1beta1/namespaces/{namespace}/inferenceservices/{name}"


def fetch_inference_service(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """GET the InferenceService through the API server; None while it does not exist."""
    credentials = load_kubeconfig(str(props["kubeconfig"]))
    path = API_PATH.format(
        namespace=quote(str(props["namespace"]), safe=""), name=quote(str(props["name"]), safe="")
    )
    url = credentials.server.rstrip("/") + path
    with open_session(RegistryEndpoint(api_url=url, credentials=credentials)) as session:
        response = session.get(url, timeout=15)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found


def wait(props: Mapping[str, Any], *, poll_s: float = 5.0) -> None:
    """Wait for the rollout that `props` describes (raises RolloutError)."""
    await_rollout(
        lambda: fetch_inference_service(props),
        str(props["digest"]),
        what=f"InferenceService {props['namespace']}/{props['name']}",
        timeout_s=seconds(str(props["timeout"])),
        poll_s=poll_s,
    )


class RolloutProvider(dyn.ResourceProvider):
    """Create and update wait for the rollout; delete has nothing to undo."""

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """Wait for the first rollout."""
        wait(props)
        return dyn.CreateResult(id_=f"{props['namespace']}/{props['name']}", outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """A new spec (digest) or timeout is an update: wait again."""
        keys = ("namespace", "name", "digest", "timeout")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        return dyn.DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Wait for the rollout of the new spec."""
        wait(news)
        return dyn.UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: the InferenceService is its own resource."""


class InferenceServiceRollout(dyn.Resource, module="kfstack", name="InferenceServiceRollout"):
    """Waits for one InferenceService spec to be Ready; fails with KServe's reason."""

    def __init__(
        self,
        resource_name: str,
        *,
        manifest: Mapping[str, Any],
        digest: str,
        timeout: str,
        kubeconfig: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "namespace": manifest["metadata"]["namespace"],
            "name": manifest["metadata"]["name"],
            "digest": digest,
            "timeout": timeout,
            "kubeconfig": pulumi.Output.secret(kubeconfig),
        }
        super().__init__(RolloutProvider(), resource_name, props, opts)
