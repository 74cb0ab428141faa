"""The ModelServing component: the ml outputs as resources of the same stack.

Registers the compiled pipeline (Pipeline + PipelineVersion), the model version in
the Model Registry (through the API server's service proxy, with the stack's own
cluster credentials) and the KServe InferenceService that serves it, each waiting
for the platform objects it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.components.kubeflow import KubeflowPlatform, KubernetesObject
from infra.kubeflow import InstallPlan, ObjectKey
from infra.registry.provider import (
    ModelRegistryEntry,
    ModelRegistryEntryArgs,
    RegistryConnectionArgs,
)
from infra.serving.dependencies import serving_dependencies
from infra.serving.inference import inference_service, predict_path
from infra.serving.inputs import ServingInputs


@dataclass(frozen=True)
class ModelServingArgs:
    """What ModelServing registers, and the platform it builds on."""

    inputs: ServingInputs
    plan: InstallPlan
    platform: KubeflowPlatform
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]


class ModelServing(pulumi.ComponentResource):
    """Pipeline, registry entry and InferenceService of one model release."""

    url: pulumi.Output[str] | None
    predict_endpoint: pulumi.Output[str] | None
    registry_ids: pulumi.Output[dict[str, str]] | None

    def __init__(
        self, name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kfstack:serving:ModelServing", name, {}, opts)
        inputs = args.inputs
        release = inputs.release
        manifest = (
            inference_service(release, inputs.options, serving=inputs.serving_release)
            if release
            else None
        )
        needs = serving_dependencies(
            args.plan,
            manifest,
            storage=inputs.options.storage,
            with_registry=release is not None,
            with_pipeline=inputs.pipeline is not None,
            namespace=inputs.options.namespace,
        )
        self.url = self.predict_endpoint = self.registry_ids = None
        self.pipeline_version: KubernetesObject | None = None
        if inputs.pipeline is not None:
            self._pipeline(args, needs.pipeline)
        if release is not None and manifest is not None:
            entry = ModelRegistryEntry(
                "model-registry-entry",
                ModelRegistryEntryArgs.from_release(
                    release, connection=RegistryConnectionArgs(kubeconfig=args.kubeconfig)
                ),
                pulumi.ResourceOptions(parent=self, depends_on=self._on(args, needs.registry)),
            )
            served = KubernetesObject(
                ObjectKey.of(manifest).resource_name,
                manifest,
                pulumi.ResourceOptions(
                    parent=self,
                    provider=args.provider,
                    depends_on=[entry, *self._on(args, needs.inference_service)],
                ),
            )
            internal = f"http://{release.name}.{inputs.options.namespace}.svc.cluster.local"
            self.url = served.status.apply(  # type: ignore[attr-defined]
                lambda status: str((status or {}).get("url") or internal)
            )
            self.predict_endpoint = self.url.apply(lambda url: url + predict_path(release))
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
                "registryIds": self.registry_ids,
            }
        )

    @staticmethod
    def _on(args: ModelServingArgs, keys: Sequence[ObjectKey]) -> list[pulumi.Resource]:
        return [args.platform.objects[key] for key in keys]

    def _pipeline(self, args: ModelServingArgs, needs: Sequence[ObjectKey]) -> None:
        objects = args.inputs.pipeline
        assert objects is not None
        depends_on = self._on(args, needs)
        pipeline = KubernetesObject(
            ObjectKey.of(objects.pipeline).resource_name,
            objects.pipeline,
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends_on),
        )
        # Earlier versions stay in the cluster for the runs that used them.
        self.pipeline_version = KubernetesObject(
            ObjectKey.of(objects.version).resource_name,
            objects.version,
            pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[pipeline, *depends_on],
                retain_on_delete=True,
            ),
        )
