"""The catalogue: component paths of 26.03, presets, needs, options, attribution."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from infra.kubeflow import catalogue
from infra.kubeflow.catalogue import CATALOGUE, PRESETS, close_needs, select_components
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.settings import KubeflowSettings


def _all_settings() -> list[KubeflowSettings]:
    return [
        KubeflowSettings(cluster_kind=kind, pipeline_definitions=defs)
        for kind in ("kind", "existing", "eks", "gke")
        for defs in ("database", "kubernetes")
    ]


def test_every_path_of_every_variant_exists(kubeflow_manifests: Path) -> None:
    missing = [
        f"{c.name}: {p}"
        for c in CATALOGUE.values()
        for settings in _all_settings()
        for p in c.paths(settings)
        if not (kubeflow_manifests / p / "kustomization.yaml").is_file()
    ]
    assert missing == []


def test_full_preset_is_exactly_the_example(kubeflow_manifests: Path) -> None:
    example = yaml.safe_load((kubeflow_manifests / "example" / "kustomization.yaml").read_text())
    wanted = [os.path.normpath(os.path.join("example", r)) for r in example["resources"]]
    settings = KubeflowSettings(preset="full", cluster_kind="existing")
    ours = [p for c in select_components(settings) for p in c.paths(settings)]
    assert sorted(ours) == sorted(wanted)
    assert len(ours) == len(set(ours)) == 27


def test_full_preset_is_closed_over_needs() -> None:
    full = set(PRESETS["full"])
    assert {c.name for c in close_needs(full)} == full


def test_ml_core_closes_needs_transitively() -> None:
    names = [c.name for c in select_components(KubeflowSettings(preset="ml-core"))]
    for direct in PRESETS["ml-core"]:
        assert direct in names
    # needed, not asked for: profiles (dashboard, pipelines), knative (kserve), namespaces
    for needed in ("profiles", "knative-serving", "kubeflow-namespace", "kubeflow-roles"):
        assert needed in names
    assert "katib" not in names and "spark-operator" not in names
    for name in names:
        assert set(CATALOGUE[name].needs) <= set(names)
    # catalogue order, no duplicates
    order = list(CATALOGUE)
    assert names == sorted(names, key=order.index)


def test_explicit_components_add_to_preset() -> None:
    settings = KubeflowSettings(preset=None, components=("katib",))
    names = {c.name for c in select_components(settings)}
    assert "katib" in names and "cert-manager" in names and "pipelines" not in names


def test_unknown_component_lists_known_names() -> None:
    with pytest.raises(CatalogueError) as info:
        select_components(KubeflowSettings(preset=None, components=("katib", "nope", "zzz")))
    message = str(info.value)
    assert "'nope'" in message and "'zzz'" in message
    assert "known components:" in message and "model-registry" in message
    assert len(info.value.problems) == 2


def test_unknown_preset_and_release_and_empty_selection() -> None:
    with pytest.raises(CatalogueError, match=r"(?s)unknown preset 'big'.*full, ml-core"):
        select_components(KubeflowSettings(preset="big"))
    with pytest.raises(CatalogueError, match=r"(?s)unsupported release '1\.9'.*26\.03"):
        select_components(KubeflowSettings(release="1.9"))
    with pytest.raises(CatalogueError, match="no components selected"):
        select_components(KubeflowSettings(preset=None))
    with pytest.raises(CatalogueError, match="no manifests for release"):
        CATALOGUE["dex"].release_paths("2.0")


@pytest.mark.parametrize(
    ("kind", "overlay"),
    [
        ("kind", "m2m-dex-and-kind"),
        ("eks", "m2m-dex-and-eks"),
        ("existing", "m2m-dex-only"),
        ("gke", "m2m-dex-only"),
    ],
)
def test_oauth2_proxy_overlay_per_cluster_kind(kind: str, overlay: str) -> None:
    paths = CATALOGUE["oauth2-proxy"].paths(KubeflowSettings(cluster_kind=kind))  # type: ignore[arg-type]
    assert paths == (f"common/oauth2-proxy/overlays/{overlay}",)


def test_istio_gke_overlay() -> None:
    gke = CATALOGUE["istio"].paths(KubeflowSettings(cluster_kind="gke"))
    kind = CATALOGUE["istio"].paths(KubeflowSettings(cluster_kind="kind"))
    assert "common/istio/istio-install/overlays/gke" in gke
    assert "common/istio/istio-install/overlays/oauth2-proxy" in kind
    assert "common/istio/istio-crds/base" in gke


def test_pipeline_definitions_switch_path() -> None:
    database = CATALOGUE["pipelines"].paths(KubeflowSettings(pipeline_definitions="database"))
    k8s = CATALOGUE["pipelines"].paths(KubeflowSettings(pipeline_definitions="kubernetes"))
    assert database == ("applications/pipeline/overlays",)
    assert k8s == (
        "applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user-k8s-native",
    )


def test_model_registry_options_and_namespace() -> None:
    component = CATALOGUE["model-registry"]
    paths = component.paths(KubeflowSettings())
    assert {p.rsplit("/", 1)[-1] for p in paths} >= {"db", "istio", "csi"}
    assert any("options/ui" in p for p in paths)
    assert component.release_paths("26.03").namespace == "kubeflow"


def test_declared_edges_and_data() -> None:
    edges = catalogue.declared_edges(close_needs(["katib"]))
    assert any(e.dependent.name == "katib-db-manager" for e in edges)
    assert all(e.reason for e in edges)
    from infra.kubeflow.objects import ObjectKey

    pvc = ObjectKey("", "PersistentVolumeClaim", "kubeflow", "katib-mysql")
    assert CATALOGUE["katib"].holds_data(pvc)
    assert not CATALOGUE["dex"].holds_data(pvc)
