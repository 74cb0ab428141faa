"""The ModelServing component: the ml outputs as resources of the same stack.

Registers the compiled pipeline (Pipeline + PipelineVersion), the model version in
the Model Registry (through the API server's service proxy, with the stack's own
cluster credentials) and the KServe InferenceService that serves it, each waiting
for the platform objects it needs. Around the InferenceService: the object store's
keys (the profile namespace's own, read from the Secret the release's profile controller
made there) and the ServiceAccount that carries them, and the AuthorizationPolicy that
lets the namespace's callers reach the predictor; `pulumi up` waits until it is Ready.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.components.kubeflow import KubeflowPlatform, KubernetesObject
from infra.components.rollout_provider import InferenceServiceRollout
from infra.kubeflow import SECRETS, InstallPlan, Manifest, ObjectKey, substitute, tokens_in
from infra.registry.provider import (
    ModelRegistryEntry,
    ModelRegistryEntryArgs,
    RegistryConnectionArgs,
)
from infra.registry.reach import apiserver_proxy_policy
from infra.serving.access import ServingAccess, serving_access
from infra.serving.dependencies import namespaced_needs, serving_dependencies
from infra.serving.inference import inference_service, predict_path
from infra.serving.inputs import ServingInputs
from infra.serving.rollout import DIGEST_ANNOTATION
from infra.serving.storage import PROFILE_KEY_FIELDS, PROFILE_SECRET_NAME


@dataclass(frozen=True)
class ModelServingArgs:
    """What ModelServing registers, and the platform it builds on."""

    inputs: ServingInputs
    plan: InstallPlan
    platform: KubeflowPlatform
    kubeconfig: pulumi.Output[str]


def cluster_local_url(status: dict[str, Any] | None, fallback: str) -> str:
    """The InferenceService's address inside the cluster (`status.address.url`), else `fallback`.

    KServe sets `status.url` to the external host (the ingress domain) and `status.address.url`
    to the cluster-local one (`http://<name>.<namespace>.svc.cluster.local`).
    """
    address = (status or {}).get("address") or {}
    return str(address.get("url") or fallback) if isinstance(address, dict) else fallback


class ModelServing(pulumi.ComponentResource):
    """Pipeline, registry entry and InferenceService of one model release."""

    url: pulumi.Output[str] | None
    predict_endpoint: pulumi.Output[str] | None
    predict_endpoint_internal: pulumi.Output[str] | None
    model_name: str | None
    registry_ids: pulumi.Output[dict[str, str]] | None

    def __init__(
        self, name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kfstack:serving:ModelServing", name, {}, opts)
        inputs = args.inputs
        release = inputs.release
        access = (
            serving_access(
                args.plan,
                model=release.name,
                namespace=inputs.options.namespace,
                owners=inputs.owners,
            )
            if release
            else None
        )
        manifest = (
            inference_service(
                release,
                inputs.options,
                serving=inputs.serving_release,
                default_service_account=access.service_account if access else None,
            )
            if release
            else None
        )
        needs = serving_dependencies(
            args.plan,
            manifest,
            storage=inputs.options.config.storage,
            with_registry=release is not None,
            with_pipeline=inputs.pipeline is not None,
            namespace=inputs.options.namespace,
        )
        self.url = self.predict_endpoint = self.registry_ids = None
        self.predict_endpoint_internal = self.model_name = None
        self.pipeline_version: KubernetesObject | None = None
        if inputs.pipeline is not None:
            self._pipeline(args, needs.pipeline)
        if release is not None and manifest is not None and access is not None:
            around = self._access(args, access)
            entry = ModelRegistryEntry(
                "model-registry-entry",
                ModelRegistryEntryArgs.from_release(
                    release, connection=RegistryConnectionArgs(kubeconfig=args.kubeconfig)
                ),
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*self._registry_reach(args), *self._on(args, needs.registry)],
                ),
            )
            served = KubernetesObject(
                ObjectKey.of(manifest).resource_name,
                manifest,
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[entry, *around, *self._on(args, needs.inference_service)],
                    # the waitFor annotation: Ready within readyTimeout, else `up` fails
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=inputs.options.config.ready_timeout,
                        update=inputs.options.config.ready_timeout,
                    ),
                ),
            )
            # Beside it (same dependencies): fails `up` with KServe's reason, not at the timeout.
            if inputs.options.await_ready:
                InferenceServiceRollout(
                    "inference-service-rollout",
                    manifest=manifest,
                    digest=manifest["metadata"]["annotations"][DIGEST_ANNOTATION],
                    timeout=inputs.options.config.ready_timeout,
                    kubeconfig=args.kubeconfig,
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[entry, *around, *self._on(args, needs.inference_service)],
                    ),
                )
            internal = f"http://{release.name}.{inputs.options.namespace}.svc.cluster.local"
            self.url = served.status.apply(  # type: ignore[attr-defined]
                lambda status: str((status or {}).get("url") or internal)
            )
            self.predict_endpoint = self.url.apply(lambda url: url + predict_path(release))
            # What `kfstack serve check` needs: the model name and the in-cluster predict URL.
            self.model_name = release.name
            self.predict_endpoint_internal = served.status.apply(  # type: ignore[attr-defined]
                lambda status: cluster_local_url(status, internal) + predict_path(release)
            )
            self.registry_ids = pulumi.Output.all(
                entry.registered_model_id, entry.model_version_id, entry.model_artifact_id
            ).apply(
                lambda ids: {
                    "registeredModelId": ids[0],
                    "modelVersionId": ids[1],
                    "modelArtifactId": ids[2],
                }
            )
        self.register_outputs(
            {
                "url": self.url,
                "predictEndpoint": self.predict_endpoint,
                "predictEndpointInternal": self.predict_endpoint_internal,
                "modelName": self.model_name,
                "registryIds": self.registry_ids,
            }
        )

    @staticmethod
    def _on(args: ModelServingArgs, keys: Sequence[ObjectKey]) -> list[pulumi.Resource]:
        return [args.platform.objects[key] for key in keys]

    def _registry_reach(self, args: ModelServingArgs) -> list[pulumi.Resource]:
        """The NetworkPolicy that lets the API server's proxy reach the registry, if needed."""
        policy = apiserver_proxy_policy(args.plan)
        if policy is None:
            return []
        key = ObjectKey.of(policy)
        registry = [o.key for o in args.plan.objects if o.key.name == "model-registry-service"]
        return [
            KubernetesObject(
                key.resource_name,
                policy,
                pulumi.ResourceOptions(
                    parent=self,
                    depends_on=self._on(args, registry),
                ),
            )
        ]

    def _access(self, args: ModelServingArgs, access: ServingAccess) -> list[pulumi.Resource]:
        """The store Secret, its ServiceAccount and the predict AuthorizationPolicy."""
        needs = namespaced_needs(args.plan, access.objects, args.inputs.options.namespace)
        registered: list[pulumi.Resource] = []
        for planned in access.objects:
            key = ObjectKey.of(planned)
            manifest = dict(planned)
            if key.kind == "Secret":
                manifest["stringData"] = self._profile_keys(
                    key.namespace, self._on(args, needs[key])
                )
            registered.append(
                KubernetesObject(
                    key.resource_name,
                    _with_credentials(manifest, args.platform.credentials),
                    pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[*registered, *self._on(args, needs[key])],
                    ),
                )
            )
        return registered

    def _profile_keys(
        self, namespace: str | None, after: Sequence[pulumi.Resource]
    ) -> pulumi.Output[dict[str, str]]:
        """The profile's own store keys under KServe's names (read, never the admin's).

        Read once the profile (`after`) is registered: its pipelines profile controller
        makes the Secret when the namespace appears, so the first `pulumi up` of a new
        profile with serving may have to be run again.
        """
        import pulumi_kubernetes as k8s

        profile = k8s.core.v1.Secret.get(
            "profile-object-store-keys",
            f"{namespace}/{PROFILE_SECRET_NAME}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
        return pulumi.Output.secret(profile.data.apply(lambda d: _profile_fields(namespace, d)))

    def _pipeline(self, args: ModelServingArgs, needs: Sequence[ObjectKey]) -> None:
        objects = args.inputs.pipeline
        assert objects is not None
        depends_on = self._on(args, needs)
        # Earlier versions stay in the cluster for the runs that used them, and so does the
        # Pipeline: KFP's webhook gives each version an ownerReference to it, so deleting
        # it would garbage-collect the versions.
        pipeline = KubernetesObject(
            ObjectKey.of(objects.pipeline).resource_name,
            objects.pipeline,
            pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                retain_on_delete=True,
            ),
        )
        self.pipeline_version = KubernetesObject(
            ObjectKey.of(objects.version).resource_name,
            objects.version,
            pulumi.ResourceOptions(
                parent=self,
                depends_on=[pipeline, *depends_on],
                retain_on_delete=True,
            ),
        )


def _profile_fields(namespace: str | None, data: Mapping[str, str] | None) -> dict[str, str]:
    """KServe's key fields from the profile Secret's base64 `data`."""
    missing = [f for f in PROFILE_KEY_FIELDS.values() if not (data or {}).get(f)]
    if missing:
        raise ValueError(
            f"Secret {namespace}/{PROFILE_SECRET_NAME} has no {', '.join(missing)}: is "
            f"{namespace} a profile namespace with Kubeflow Pipelines enabled?"
        )
    assert data is not None
    return {
        field: base64.b64decode(data[source]).decode("utf-8")
        for field, source in PROFILE_KEY_FIELDS.items()
    }


def _with_credentials(
    manifest: Manifest, credentials: Mapping[str, pulumi.Output[str]]
) -> dict[str, Any]:
    """The manifest with its secret tokens replaced by the stack's credentials (secret)."""
    resolved: dict[str, Any] = dict(manifest)
    for field, node in manifest.items():
        names = sorted(tokens_in(node))
        if names:
            values = {name: credentials[SECRETS[name].config_key] for name in names}
            resolved[field] = _substituted(node, values)
    return resolved


def _substituted(node: Any, values: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[Any]:
    filled = pulumi.Output.all(**values).apply(lambda v: substitute(node, v))
    return pulumi.Output.secret(filled)
