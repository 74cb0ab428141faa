"""The component table of Kubeflow 26.03 (data): what its files cannot say.

Paths are relative to the release's manifests root (the folder holding `applications/`,
`common/` and `example/`). They are how the example's entries are matched to components;
the `full` preset is the example itself (see `catalogue/select.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from infra.kubeflow.catalogue.component import Component, options
from infra.kubeflow.objects import DeclaredEdge, ObjectMatch


def _paths(*paths: str) -> tuple[str, ...]:
    return paths


def deploy(namespace: str, name: str) -> ObjectMatch:
    """Select the Deployment `namespace/name`."""
    return ObjectMatch(kind="Deployment", group="apps", namespace=namespace, name=name)


def after(dependent: ObjectMatch, dependency: ObjectMatch, reason: str) -> DeclaredEdge:
    """Declare: `dependent` is installed after `dependency`, because `reason`."""
    return DeclaredEdge(dependent=dependent, dependency=dependency, reason=reason)


def store_edges(stores: tuple[str, ...]) -> tuple[DeclaredEdge, ...]:
    """KFP's API server and metadata service wait for the stores they connect to."""
    return tuple(
        after(
            deploy("kubeflow", app),
            deploy("kubeflow", store),
            f"{app} connects to {store} at start and exits while it is down",
        )
        for app in ("ml-pipeline", "metadata-grpc-deployment")
        for store in stores
        if app == "ml-pipeline" or store == "mysql"
    )


_PVC = ObjectMatch(kind="PersistentVolumeClaim", group="")
_ISTIOD = deploy("istio-system", "istiod")
_KUBEFLOW_DEPLOYMENTS = ObjectMatch(kind="Deployment", group="apps", namespace="kubeflow")

COMPONENTS: tuple[Component, ...] = (
    Component(
        "cert-manager",
        "cert-manager: certificates for webhooks",
        _paths("common/cert-manager/overlays/kubeflow"),
    ),
    Component(
        "istio",
        "Istio CRDs, namespace and control plane (oauth2-proxy overlay, GKE overlay on gke)",
        _paths(
            "common/istio/istio-crds/base",
            "common/istio/istio-namespace/base",
            "common/istio/istio-install/overlays/oauth2-proxy",
        ),
        options(
            cluster_kind={
                "gke": (
                    "common/istio/istio-crds/base",
                    "common/istio/istio-namespace/base",
                    "common/istio/istio-install/overlays/gke",
                )
            }
        ),
        edges=(
            after(
                deploy("istio-system", "istio-ingressgateway"),
                _ISTIOD,
                "the gateway's proxy config is injected by istiod",
            ),
            after(
                _KUBEFLOW_DEPLOYMENTS,
                _ISTIOD,
                "pods of the kubeflow namespace get their sidecar from istiod's webhook "
                "(which matches Pods, not the Deployments inference sees)",
            ),
        ),
    ),
    Component(
        "oauth2-proxy",
        "OAuth2 proxy in front of the Istio gateway (M2M overlay per cluster kind)",
        _paths(
            "common/oauth2-proxy/overlays/m2m-dex-only",
        ),
        options(
            cluster_kind={
                "kind": ("common/oauth2-proxy/overlays/m2m-dex-and-kind",),
                "eks": ("common/oauth2-proxy/overlays/m2m-dex-and-eks",),
            }
        ),
        needs=("istio", "dex"),
        edges=(
            after(
                deploy("oauth2-proxy", "oauth2-proxy"),
                deploy("auth", "dex"),
                "oauth2-proxy reads Dex's OIDC discovery document at start",
            ),
        ),
    ),
    Component(
        "dex",
        "Dex identity provider with static users",
        _paths("common/dex/overlays/oauth2-proxy"),
        needs=("istio",),
    ),
    Component(
        "knative-serving",
        "Knative Serving (for KServe serverless) and the cluster-local gateway",
        _paths(
            "common/knative/knative-serving/overlays/gateways",
            "common/istio/cluster-local-gateway/base",
        ),
        needs=("istio",),
        edges=(
            after(
                deploy("istio-system", "cluster-local-gateway"),
                _ISTIOD,
                "the gateway's proxy config is injected by istiod",
            ),
        ),
    ),
    Component(
        "kubeflow-namespace",
        "the kubeflow and kubeflow-system namespaces",
        _paths("common/kubeflow-namespace/base"),
    ),
    Component(
        "kubeflow-roles",
        "the kubeflow-admin/edit/view cluster roles",
        _paths("common/kubeflow-roles/base"),
    ),
    Component(
        "kubeflow-istio-resources",
        "the kubeflow gateway and Istio cluster roles",
        _paths("common/istio/kubeflow-istio-resources/base"),
        needs=("istio", "kubeflow-namespace"),
    ),
    Component(
        "pipelines",
        "Kubeflow Pipelines, multi-user, SeaweedFS object store, Argo Workflows",
        _paths(
            "applications/pipeline/overlays",
        ),
        options(
            pipeline_definitions={
                "kubernetes": (
                    "applications/pipeline/upstream/env/cert-manager/"
                    "platform-agnostic-multi-user-k8s-native",
                )
            }
        ),
        needs=(
            "cert-manager",
            "istio",
            "kubeflow-namespace",
            "kubeflow-roles",
            "kubeflow-istio-resources",
            "profiles",
        ),
        edges=store_edges(("mysql", "seaweedfs")),
        data=(
            _PVC,
            deploy("kubeflow", "mysql"),
            deploy("kubeflow", "seaweedfs"),
        ),
    ),
    Component(
        "katib",
        "Katib hyperparameter tuning",
        _paths("applications/katib/upstream/installs/katib-with-kubeflow"),
        needs=("cert-manager", "istio", "kubeflow-namespace", "kubeflow-roles"),
        edges=(
            after(
                deploy("kubeflow", "katib-db-manager"),
                deploy("kubeflow", "katib-mysql"),
                "katib-db-manager connects to its MySQL at start",
            ),
        ),
        data=(_PVC, deploy("kubeflow", "katib-mysql")),
    ),
    Component(
        "central-dashboard",
        "the Kubeflow central dashboard",
        _paths("applications/centraldashboard/overlays/oauth2-proxy"),
        needs=("profiles", "kubeflow-istio-resources", "kubeflow-roles", "oauth2-proxy"),
    ),
    Component(
        "admission-webhook",
        "the PodDefaults admission webhook",
        _paths("applications/admission-webhook/upstream/overlays/cert-manager"),
        needs=("cert-manager", "kubeflow-namespace"),
    ),
    Component(
        "jupyter-web-app",
        "the notebooks web app",
        _paths("applications/jupyter/jupyter-web-app/upstream/overlays/istio"),
        needs=("notebook-controller", "kubeflow-istio-resources", "kubeflow-roles"),
    ),
    Component(
        "notebook-controller",
        "the Notebook controller",
        _paths("applications/jupyter/notebook-controller/upstream/overlays/kubeflow"),
        needs=("kubeflow-namespace", "kubeflow-roles"),
    ),
    Component(
        "profiles",
        "profiles controller with KFAM and Pod Security Standards",
        _paths("applications/profiles/pss"),
        needs=("kubeflow-namespace", "kubeflow-roles", "istio"),
    ),
    Component(
        "pvcviewer",
        "the PVC viewer controller",
        _paths("applications/pvcviewer-controller/upstream/base"),
        needs=("cert-manager", "kubeflow-namespace"),
    ),
    Component(
        "volumes-web-app",
        "the volumes web app",
        _paths("applications/volumes-web-app/upstream/overlays/istio"),
        needs=("kubeflow-istio-resources", "kubeflow-roles"),
    ),
    Component(
        "tensorboard-controller",
        "the Tensorboard controller",
        _paths("applications/tensorboard/tensorboard-controller/upstream/overlays/kubeflow"),
        needs=("kubeflow-namespace", "kubeflow-roles"),
    ),
    Component(
        "tensorboards-web-app",
        "the Tensorboards web app",
        _paths("applications/tensorboard/tensorboards-web-app/upstream/overlays/istio"),
        needs=("tensorboard-controller", "kubeflow-istio-resources"),
    ),
    Component(
        "trainer",
        "Kubeflow Trainer (training operator v2) with JobSet",
        _paths("applications/trainer/overlays"),
        needs=("kubeflow-namespace", "kubeflow-roles"),
    ),
    Component(
        "user-namespace",
        "the default user's Profile",
        _paths("common/user-namespace/base"),
        needs=("profiles",),
    ),
    Component(
        "kserve",
        "KServe model serving (serverless mode, on Knative)",
        _paths("applications/kserve/kserve"),
        needs=("cert-manager", "istio", "knative-serving", "kubeflow-namespace"),
    ),
    Component(
        "models-web-app",
        "the KServe models web app",
        _paths("applications/kserve/models-web-app/overlays/kubeflow"),
        needs=("kserve", "kubeflow-istio-resources"),
    ),
    Component(
        "spark-operator",
        "the Spark operator",
        _paths("applications/spark/spark-operator/overlays/kubeflow"),
        needs=("kubeflow-namespace", "kubeflow-roles"),
    ),
    Component(
        "model-registry",
        "Model Registry with MySQL, its Istio routes, the KServe storage initializer and UI",
        _paths(
            "applications/model-registry/upstream/overlays/db",
            "applications/model-registry/upstream/options/istio",
            "applications/model-registry/upstream/options/csi",
            "applications/model-registry/upstream/options/ui/overlays/istio",
        ),
        namespace="kubeflow",
        needs=("kubeflow-namespace", "kubeflow-istio-resources", "istio", "kserve"),
        edges=(
            after(
                deploy("kubeflow", "model-registry-deployment"),
                deploy("kubeflow", "model-registry-db"),
                "the model registry server connects to its MySQL at start",
            ),
        ),
        data=(_PVC, deploy("kubeflow", "model-registry-db")),
    ),
)


# `full` is the release's example/kustomization.yaml, read from the source.
PRESETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "ml-core": (
            "cert-manager",
            "istio",
            "oauth2-proxy",
            "dex",
            "pipelines",
            "kserve",
            "model-registry",
            "central-dashboard",
        ),
    }
)
