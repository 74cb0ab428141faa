"""The catalogue: the release table, detection, the example as `full`, presets, needs, options."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from infra.kubeflow import catalogue
from infra.kubeflow.catalogue import (
    RELEASES,
    detect_release,
    example_entries,
    find_kubeflow_release,
    select_components,
)
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import ObjectKey
from infra.kubeflow.settings import KubeflowSettings
from tests.settings import kubeflow_settings

R2603 = find_kubeflow_release("26.03")
R110 = find_kubeflow_release("v1.10.2")


def _all_settings() -> list[KubeflowSettings]:
    return [
        kubeflow_settings(cluster_kind=kind, pipeline_definitions=defs)
        for kind in ("kind", "existing", "eks", "gke")
        for defs in ("database", "kubernetes")
    ]


def _table(name: str, rel: catalogue.KubeflowRelease = R2603) -> catalogue.Component:
    return rel.catalogue[name]


@pytest.mark.parametrize("name", ["26.03", "v1.10.2"])
def test_every_path_of_every_variant_exists(name: str, shared_releases: dict[str, Path]) -> None:
    root = shared_releases[name]
    missing = [
        f"{c.name}: {p}"
        for c in find_kubeflow_release(name).components
        for settings in _all_settings()
        for p in c.select_paths(settings)
        if not (root / p / "kustomization.yaml").is_file()
    ]
    assert missing == []


@pytest.mark.parametrize("name", ["26.03", "v1.10.2"])
def test_release_is_detected_from_its_source(name: str, shared_releases: dict[str, Path]) -> None:
    detected = detect_release(shared_releases[name])
    assert detected is not None and detected.name == name


def test_release_table_facts() -> None:
    names = [r.name for r in RELEASES]
    assert names == ["v1.10.2", "v1.11.0", "26.03"]  # oldest first
    assert find_kubeflow_release("v1.11.0").components == R2603.components
    assert "1.35" in R2603.kubernetes and "1.35" not in R110.kubernetes
    assert find_kubeflow_release("1.10.2") is R110
    with pytest.raises(CatalogueError, match=r"(?s)unknown release '1\.9'.*v1\.10\.2.*26\.03"):
        find_kubeflow_release("1.9")


@pytest.mark.parametrize(("name", "count"), [("26.03", 27), ("v1.10.2", 29)])
def test_full_preset_is_exactly_the_example(
    name: str, count: int, shared_releases: dict[str, Path]
) -> None:
    root = shared_releases[name]
    settings = kubeflow_settings(release=name, preset="full", cluster_kind="existing")
    selection = select_components(settings, find_kubeflow_release(name), root)
    ours = [p for c in selection.components for p in c.select_paths(settings)]
    assert sorted(ours) == sorted(example_entries(root))
    assert len(ours) == len(set(ours)) == count
    assert selection.unknown == () and selection.warnings == ()


def test_v1_10_components_differ_where_the_layout_does(shared_releases: dict[str, Path]) -> None:
    settings = kubeflow_settings(release="v1.10.2", preset="full", cluster_kind="existing")
    names = [
        c.name for c in select_components(settings, R110, shared_releases["v1.10.2"]).components
    ]
    assert "training-operator" in names and "trainer" not in names
    assert "networkpolicies" in names
    pipelines = _table("pipelines", R110)
    assert pipelines.holds_data(ObjectKey("apps", "Deployment", "kubeflow", "minio"))
    assert any(e.dependency.name == "minio" for e in pipelines.edges)
    assert not any(e.dependency.name == "seaweedfs" for e in pipelines.edges)


def test_ml_core_closes_needs_transitively(shared_releases: dict[str, Path]) -> None:
    selection = select_components(
        kubeflow_settings(preset="ml-core"), R2603, shared_releases["26.03"]
    )
    names = [c.name for c in selection.components]
    for direct in R2603.presets["ml-core"]:
        assert direct in names
    for needed in ("profiles", "knative-serving", "kubeflow-namespace", "kubeflow-roles"):
        assert needed in names
    assert "katib" not in names and "spark-operator" not in names
    for name in names:
        assert set(_table(name).needs) <= set(names)
    order = [c.name for c in R2603.components]
    assert names == sorted(names, key=order.index)


def test_explicit_components_add_to_preset(shared_releases: dict[str, Path]) -> None:
    settings = kubeflow_settings(preset=None, components=("katib",))
    names = {
        c.name for c in select_components(settings, R2603, shared_releases["26.03"]).components
    }
    assert "katib" in names and "cert-manager" in names and "pipelines" not in names


def test_unknown_component_lists_known_names(shared_releases: dict[str, Path]) -> None:
    with pytest.raises(CatalogueError) as info:
        select_components(
            kubeflow_settings(preset=None, components=("katib", "nope", "zzz")),
            R2603,
            shared_releases["26.03"],
        )
    message = str(info.value)
    assert "'nope'" in message and "'zzz'" in message
    assert "components of 26.03:" in message and "model-registry" in message
    assert len(info.value.problems) == 2


def test_unknown_preset_and_empty_selection(shared_releases: dict[str, Path]) -> None:
    root = shared_releases["26.03"]
    with pytest.raises(CatalogueError, match=r"(?s)unknown preset 'big'.*full, ml-core"):
        select_components(kubeflow_settings(preset="big"), R2603, root)
    with pytest.raises(CatalogueError, match="no components selected"):
        select_components(kubeflow_settings(preset=None), R2603, root)


def test_a_moved_folder_plans_with_warnings(
    tmp_path: Path, shared_releases: dict[str, Path]
) -> None:
    """A layout the table does not know: the example points at a folder that moved."""
    root = _moved_copy(shared_releases["26.03"], tmp_path)
    settings = kubeflow_settings(preset="full", cluster_kind="existing")
    selection = select_components(settings, R2603, root)
    assert selection.unknown == ("pvc-viewer",)
    moved = next(c for c in selection.components if c.name == "pvc-viewer")
    assert moved.select_paths(settings) == ("applications/pvc-viewer/upstream/base",)
    assert not moved.known and moved.needs == () and moved.edges == ()
    text = "\n".join(selection.warnings)
    assert "'applications/pvc-viewer/upstream/base'" in text  # what it could not match
    assert "could not place component 'pvcviewer'" in text  # what it could not place
    assert "pvcviewer" not in {c.name for c in selection.components}


def _moved_copy(source: Path, tmp_path: Path) -> Path:
    """Copy the example and the moved component (symlinks for the rest: read-only input)."""
    root = tmp_path / "manifests"
    root.mkdir()
    for top in ("common",):
        (root / top).symlink_to(source / top)
    (root / "applications").mkdir()
    for child in (source / "applications").iterdir():
        if child.name != "pvcviewer-controller":
            (root / "applications" / child.name).symlink_to(child)
    shutil.copytree(
        source / "applications" / "pvcviewer-controller", root / "applications" / "pvc-viewer"
    )
    (root / "example").mkdir()
    text = (source / "example" / "kustomization.yaml").read_text()
    old = "../applications/pvcviewer-controller/upstream/base"
    assert old in text
    (root / "example" / "kustomization.yaml").write_text(
        text.replace(old, "../applications/pvc-viewer/upstream/base")
    )
    shutil.copy(source / "README.md", root / "README.md")
    if (source.parent / "upstream").is_dir():
        (tmp_path / "upstream").symlink_to(source.parent / "upstream")
    return root


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
    settings = kubeflow_settings(cluster_kind=kind)  # type: ignore[arg-type]
    for rel in (R2603, R110):
        paths = _table("oauth2-proxy", rel).select_paths(settings)
        assert paths == (f"common/oauth2-proxy/overlays/{overlay}",)


def test_istio_gke_overlay() -> None:
    gke = _table("istio").select_paths(kubeflow_settings(cluster_kind="gke"))
    kind = _table("istio").select_paths(kubeflow_settings(cluster_kind="kind"))
    assert "common/istio/istio-install/overlays/gke" in gke
    assert "common/istio/istio-install/overlays/oauth2-proxy" in kind
    assert "common/istio/istio-crds/base" in gke


def test_pipeline_definitions_switch_path() -> None:
    database = _table("pipelines").select_paths(kubeflow_settings(pipeline_definitions="database"))
    k8s = _table("pipelines").select_paths(kubeflow_settings(pipeline_definitions="kubernetes"))
    assert database == ("applications/pipeline/overlays",)
    assert k8s == (
        "applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user-k8s-native",
    )


def test_model_registry_options_and_namespace() -> None:
    component = _table("model-registry")
    paths = component.select_paths(kubeflow_settings())
    assert {p.rsplit("/", 1)[-1] for p in paths} >= {"db", "istio", "csi"}
    assert any("options/ui" in p for p in paths)
    assert component.namespace == "kubeflow"


def test_declared_edges_and_data() -> None:
    edges = catalogue.declared_edges([_table("katib")])
    assert any(e.dependent.name == "katib-db-manager" for e in edges)
    assert all(e.reason for e in edges)
    pvc = ObjectKey("", "PersistentVolumeClaim", "kubeflow", "katib-mysql")
    assert _table("katib").holds_data(pvc)
    assert not _table("dex").holds_data(pvc)
    assert replace(_table("dex"), data=()).holds_data(pvc) is False
