"""The kfstack Pulumi program: config in, components built, outputs out.

Everything that can fail on bad input (config, install plan and its policy gate,
release record, compiled pipeline) is read and checked before the first resource
is registered, so bad input deploys nothing.
"""

from __future__ import annotations

import pulumi

from infra.components.cluster import Cluster, ClusterArgs
from infra.components.kubeflow import KubeflowPlatform, KubeflowPlatformArgs
from infra.components.serving import ModelServing, ModelServingArgs
from infra.program_inputs import read_program_inputs
from infra.serving.storage import object_store

inputs = read_program_inputs()  # bad input ends here, as one error line, deploying nothing
config, plan, serving_inputs = inputs.config, inputs.plan, inputs.serving
settings = config.settings

cluster = Cluster("cluster", ClusterArgs(config=config))
platform = KubeflowPlatform(
    "kubeflow",
    KubeflowPlatformArgs(
        plan=plan,
        secrets=config.secrets,
        protect_data=settings.kubeflow.protect_data,
    ),
    # Every Kubernetes object of the component (and its children) uses the cluster's provider.
    pulumi.ResourceOptions(providers=[cluster.provider]),
)
if serving_inputs is not None:
    serving = ModelServing(
        "serving",
        ModelServingArgs(
            inputs=serving_inputs,
            plan=plan,
            platform=platform,
            kubeconfig=cluster.kubeconfig,
        ),
        pulumi.ResourceOptions(providers=[cluster.provider]),
    )
    pulumi.export("inferenceServiceUrl", serving.url)
    pulumi.export("predictEndpoint", serving.predict_endpoint)
    pulumi.export("predictEndpointInternal", serving.predict_endpoint_internal)
    pulumi.export("modelName", serving.model_name)
    pulumi.export("registryIds", serving.registry_ids)

pulumi.export("clusterName", cluster.facts.name)
pulumi.export("clusterKind", cluster.facts.kind)
pulumi.export("kubernetesVersion", cluster.facts.kubernetes_version)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("endpoint", cluster.endpoint)
pulumi.export("dashboardUrl", cluster.dashboard_url)
pulumi.export("canProvisionLoadBalancers", cluster.facts.capabilities.load_balancers)
pulumi.export("canProvisionStorage", cluster.facts.capabilities.storage)
pulumi.export("kubeflowRelease", plan.release)
pulumi.export("kubeflowComponents", list(plan.components))
pulumi.export("kubeflowObjects", len(plan.objects))
pulumi.export("users", [user.email for user in settings.kubeflow.users])
pulumi.export("credentials", platform.credentials)
# Where `kfstack release publish` uploads (keys: credentials.objectStoreAccessKey/SecretKey).
store = object_store(plan)
if store is not None:
    pulumi.export("objectStore", store.as_output())
