"""The catalogue's data files: object matches, `extends`, and errors that name file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.kubeflow.catalogue import RELEASES, KubeflowRelease
from infra.kubeflow.catalogue.load import TABLES, load_components, load_releases
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import ObjectKey, ObjectMatch

BASE = """
[[component]]
name = "a"
description = "A"
paths = ["common/a"]
data = ["PersistentVolumeClaim */*"]

[[component]]
name = "b"
description = "B"
paths = ["common/b"]
needs = ["a"]
[component.options.cluster_kind]
gke = ["common/b-gke"]

[presets]
small = ["a"]
"""


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Deployment.apps kubeflow/*", ObjectMatch("Deployment", "apps", "kubeflow", None)),
        ("PersistentVolumeClaim */*", ObjectMatch("PersistentVolumeClaim")),
        (
            "ClusterRole.rbac.authorization.k8s.io kubeflow-admin",
            ObjectMatch("ClusterRole", "rbac.authorization.k8s.io", "", "kubeflow-admin"),
        ),
        ("* */*", ObjectMatch()),
    ],
)
def test_object_match_reads_what_it_writes(text: str, match: ObjectMatch) -> None:
    assert ObjectMatch.parse(text) == match
    assert str(match) == text


def test_object_match_of_a_cluster_scoped_name_misses_namespaced_objects() -> None:
    match = ObjectMatch.parse("ClusterRole.rbac.authorization.k8s.io kubeflow-admin")
    assert match.matches(
        ObjectKey("rbac.authorization.k8s.io", "ClusterRole", "", "kubeflow-admin")
    )
    assert not match.matches(
        ObjectKey("rbac.authorization.k8s.io", "ClusterRole", "x", "kubeflow-admin")
    )


@pytest.mark.parametrize("text", ["Deployment", "Deployment.apps a/b extra", ""])
def test_object_match_refuses_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match=r"Kind\.group namespace/name"):
        ObjectMatch.parse(text)


def _write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_an_extending_table_changes_replaces_and_inserts(tmp_path: Path) -> None:
    child = """
extends = "base.toml"
[[component]]
name = "b"
paths = ["common/b2"]
[[component]]
name = "c"
replaces = "a"
description = "C"
paths = ["common/c"]
[[component]]
name = "d"
after = "c"
description = "D"
paths = ["common/d"]
[[component]]
name = "e"
description = "E"
paths = ["common/e"]
[presets]
other = ["b"]
"""
    _write(tmp_path, **{"base.toml": BASE, "child.toml": child})
    components, presets = load_components(tmp_path / "child.toml")
    assert [c.name for c in components] == ["c", "d", "b", "e"]
    b = components[2]
    # Given fields change, the others stay the base's.
    assert b.paths == ("common/b2",) and b.needs == ("a",) and b.description == "B"
    assert dict(b.options["cluster_kind"]) == {"gke": ("common/b-gke",)}
    assert components[0].data == ()  # a replacement starts empty, it does not inherit
    assert dict(presets) == {"small": ("a",), "other": ("b",)}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (BASE.replace('needs = ["a"]', 'need = ["a"]'), r"component\[1\]: unknown key 'need'"),
        (BASE.replace('paths = ["common/a"]', 'paths = "common/a"'), r"component\[0\]\.paths"),
        (BASE.replace("cluster_kind]", "zone]"), r"options\.zone: unknown setting"),
        (BASE.replace('description = "A"', ""), r"component\[0\]: description is required"),
        (
            BASE.replace("PersistentVolumeClaim */*", "nope"),
            r"component\[0\]\.data: object match 'nope'",
        ),
        ("[[component]\n", r"not TOML"),
    ],
)
def test_a_table_error_names_the_file_and_key(tmp_path: Path, text: str, error: str) -> None:
    _write(tmp_path, **{"t.toml": text})
    with pytest.raises(CatalogueError, match=error) as caught:
        load_components(tmp_path / "t.toml")
    assert str(tmp_path / "t.toml") in str(caught.value)


def test_an_extending_table_refuses_an_unknown_place(tmp_path: Path) -> None:
    child = 'extends = "base.toml"\n[[component]]\nname = "x"\nafter = "zz"\n'
    _write(tmp_path, **{"base.toml": BASE, "child.toml": child})
    with pytest.raises(CatalogueError, match="names 'zz', which the base table does not have"):
        load_components(tmp_path / "child.toml")


def test_an_extending_entry_takes_one_place(tmp_path: Path) -> None:
    child = 'extends = "base.toml"\n[[component]]\nname = "x"\nreplaces = "a"\nafter = "b"\n'
    _write(tmp_path, **{"base.toml": BASE, "child.toml": child})
    with pytest.raises(CatalogueError, match=r"component\[0\]: gives both replaces and after"):
        load_components(tmp_path / "child.toml")


def test_a_new_release_is_one_row_of_the_release_table(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(TABLES, tmp_path / "tables"))
    row = '\n[[release]]\nname = "27.09"\ngit_tag = "27.09"\nkubernetes = ["1.35"]\n'
    row += 'table = "kubeflow-26.03.toml"\n'
    with (folder / "releases.toml").open("a") as stream:
        stream.write(row)
    releases = load_releases(folder)
    assert [r.name for r in releases] == [*(r.name for r in RELEASES), "27.09"]
    new = releases[-1]
    assert new.components == RELEASES[-1].components and new.kubernetes == ("1.35",)


def test_the_release_table_holds_no_fact_the_release_files_hold(tmp_path: Path) -> None:
    """The object store is read from the plan, default credentials where they sit."""
    folder = Path(shutil.copytree(TABLES, tmp_path / "tables"))
    text = (folder / "releases.toml").read_text()
    text = text.replace('git_tag = "26.03"\n', 'git_tag = "26.03"\nobject_store = "seaweedfs"\n')
    (folder / "releases.toml").write_text(text)
    with pytest.raises(CatalogueError, match=r"unknown key 'object_store'"):
        load_releases(folder)


@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.name)
def test_shipped_tables_name_only_their_own_components(release: KubeflowRelease) -> None:
    names = set(release.catalogue)
    dangling = [
        f"{c.name} needs {need}"
        for c in release.components
        for need in c.needs
        if need not in names
    ]
    dangling += [
        f"preset {p}: {n}"
        for p, members in release.presets.items()
        for n in members
        if n not in names
    ]
    assert dangling == []
    assert len(names) == len(release.components)  # no name twice
