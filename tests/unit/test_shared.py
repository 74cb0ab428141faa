"""What the tests read from KFSTACK_SHARED: the table, the stop message, scripts/fetch-shared.

The fetch's network part (`git_clone`, `download`) cannot run here; everything around it runs
against a local stand-in for GitHub, and its rewrites against the real ../shared copy.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

import pytest

from infra.kubeflow.catalogue import RELEASES
from infra.kubeflow.render.kustomize import pinned_kubectl
from tests import shared
from tests.conftest import KUBEFLOW_RELEASES, SHARED

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "fetch-shared"
PYTEST = (sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider")


def _script() -> ModuleType:
    loader = SourceFileLoader("fetch_shared", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fetch_shared", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_shared"] = module  # dataclasses look their module up
    loader.exec_module(module)
    return module


fetch_shared = _script()


# --- the table ------------------------------------------------------------------------------


def test_the_tests_read_the_releases_of_the_table_at_the_tags_of_the_release_table() -> None:
    tags = {release.name: release.git_tag for release in RELEASES}
    table = {copy.release: copy.tag for copy in shared.NEEDS.kubeflow}
    assert table == {"26.03": "26.03", "v1.10.2": "v1.10.2"}
    assert {name: tags.get(name) for name in table} == table
    assert {name: SHARED / "kubeflow" / name / "manifests" for name in table} == KUBEFLOW_RELEASES
    assert all(re.fullmatch(r"[0-9a-f]{40}", c.commit) for c in shared.NEEDS.kubeflow)


def test_locate_prefers_the_given_folder_then_a_complete_cache(tmp_path: Path) -> None:
    assert shared.locate({"KFSTACK_SHARED": str(tmp_path)}) == tmp_path
    cache = _complete_cache(tmp_path / "xdg")
    default = shared.REPO.parent / "shared"
    expected = cache if shared.missing(default) else default
    assert shared.locate({"XDG_CACHE_HOME": str(tmp_path / "xdg")}) == expected
    assert shared.missing(cache) == ()
    assert shared.missing(tmp_path / "empty") == shared.NEEDS.pieces


def test_pytest_on_an_empty_shared_folder_stops_with_what_it_needs(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "KFSTACK_SHARED": str(empty)}
    run = subprocess.run(
        [*PYTEST, "tests/unit/test_workflows.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, out
    for piece in shared.NEEDS.pieces:
        assert f"{empty / piece.path}  (" in out
    assert 'export KFSTACK_SHARED="$(scripts/fetch-shared)"' in out
    assert out.count("ERROR") == 1
    assert "Traceback" not in out
    assert "passed" not in out
    assert "failed" not in out


# --- scripts/fetch-shared: which folder, what it says ---------------------------------------


def _complete_cache(xdg: Path) -> Path:
    """A cache that holds every piece (links to the real copy)."""
    cache = shared.cache_dir({"XDG_CACHE_HOME": str(xdg)})
    for piece in shared.NEEDS.pieces:
        (cache / piece.folder).parent.mkdir(parents=True, exist_ok=True)
        (cache / piece.folder).symlink_to(SHARED / piece.folder)
    return cache


def _offline() -> object:
    def refuse(*_: object) -> str:
        raise AssertionError("no network")

    return fetch_shared.Network(clone=refuse, get=refuse)


def test_script_prints_the_first_complete_folder_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KFSTACK_SHARED", str(SHARED))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "none"))
    assert fetch_shared.main([], net=_offline()) == 0
    assert capsys.readouterr().out == f"{SHARED}\n"
    monkeypatch.setenv("KFSTACK_SHARED", str(tmp_path / "empty"))
    cache = _complete_cache(tmp_path / "xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch_shared.main([], net=_offline()) == 0
    assert capsys.readouterr().out == f"{cache}\n"


def test_script_check_names_what_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "KFSTACK_SHARED": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    run = subprocess.run(
        [str(SCRIPT), "--check"], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr == shared.message(tmp_path, shared.NEEDS.pieces) + "\n"


def test_script_fetches_only_the_missing_registry_api_at_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = _complete_cache(tmp_path / "xdg")
    api = shared.NEEDS.model_registry
    (cache / api.folder).unlink()
    monkeypatch.setenv("KFSTACK_SHARED", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    asked: list[str] = []

    def get(url: str, dest: Path) -> None:
        asked.append(url)
        dest.write_text("openapi: 3.0.3\n")

    assert fetch_shared.main([], net=fetch_shared.Network(clone=_offline().clone, get=get)) == 0
    assert capsys.readouterr().out == f"{cache}\n"
    assert asked == [
        f"https://raw.githubusercontent.com/kubeflow/model-registry/{api.commit}/{api.file}"
    ]
    assert (cache / api.path).read_text() == "openapi: 3.0.3\n"
    assert sorted(p.name for p in cache.iterdir()) == ["kubeflow", "model-registry"]


# --- scripts/fetch-shared: the layout of a fetched release ----------------------------------

OWNERS = {"argo-workflows": "argoproj", "lws": "kubernetes-sigs", "jobset": "kubernetes-sigs"}
_VENDORED = re.compile(
    r"^- (?:\.\./)+upstream/(?P<repo>[a-z-]+)-(?P<ref>v[\d.]+)(?:/(?P<path>\S+))?$"
)


def _remote_of(line: str) -> str:
    """The remote reference the real release wrote where the shared copy has a relative path."""
    found = _VENDORED.match(line.strip())
    assert found, line
    repo, ref, path = found["repo"], found["ref"], found["path"]
    if path is None:  # a release file, wrapped in a kustomization of its own
        return f"https://github.com/{OWNERS[repo]}/{repo}/releases/download/{ref}/manifests.yaml"
    slashes = "//" if repo == "lws" else "/"  # both forms kustomize reads
    return f"https://github.com/{OWNERS[repo]}/{repo}{slashes}{path}?ref={ref}"


def test_references_are_rewritten_to_the_paths_of_the_shared_copy() -> None:
    release = SHARED / "kubeflow" / "26.03"
    files = [
        path
        for path in sorted((release / "manifests").rglob("kustomization.yaml"))
        if any(_VENDORED.match(line.strip()) for line in path.read_text().splitlines())
    ]
    assert len(files) >= 6
    names = set()
    for path in files:
        vendored = path.read_text()
        original = "".join(
            line.replace(line.split()[-1], _remote_of(line))
            if _VENDORED.match(line.strip())
            else line
            for line in vendored.splitlines(keepends=True)
        )
        assert original != vendored
        where = path.parent.relative_to(release).as_posix()
        rewritten, remotes = fetch_shared.vendor_references(original, where)
        assert rewritten == vendored, path
        names |= {remote.name for remote in remotes}
    assert names == {p.name for p in (release / "upstream").iterdir()}


COPY = shared.KubeflowCopy(
    release="9.9", repo="https://github.com/kubeflow/manifests", tag="9.9", commit="c0ffee"
)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def _github(tmp_path: Path, commit: str) -> tuple[object, list[str]]:
    """A local stand-in for GitHub: two repos and one release file; the calls it got."""
    kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    repos = {
        "https://github.com/kubeflow/manifests": _tree(
            tmp_path / "manifests",
            {
                "applications/app/kustomization.yaml": kustomization
                + "resources:\n"
                + "- https://github.com/o/lib//config/default?ref=v1\n"
                + '- "https://github.com/o/set/releases/download/v2/manifests.yaml"  # a file\n',
                "example/kustomization.yaml": kustomization + "resources:\n- ../applications/app\n",
                "LICENSE": "Apache-2.0\n",
                "README.md": "manifests\n",
                "Makefile": "all:\n",
                "tests/install.sh": "echo\n",
                ".github/workflows/test.yaml": "on: push\n",
                f"{shared.KubeflowCopy.CONTROLLER}/sync.py": "# the profile controller\n",
            },
        ),
        "https://github.com/o/lib.git": _tree(
            tmp_path / "lib",
            {
                "config/default/kustomization.yaml": kustomization + "resources:\n- cm.yaml\n",
                "config/default/cm.yaml": _configmap("lib"),
                "LICENSE": "Apache-2.0\n",
                "docs/index.md": "docs\n",
            },
        ),
    }
    calls: list[str] = []

    def clone(url: str, ref: str, dest: Path) -> str:
        calls.append(f"clone {url} {ref}")
        shutil.copytree(repos[url], dest)
        return commit

    def get(url: str, dest: Path) -> None:
        calls.append(f"get {url}")
        dest.write_text(_configmap("set"))

    return fetch_shared.Network(clone=clone, get=get), calls


def test_a_release_is_laid_out_as_the_shared_copy_and_renders_offline(tmp_path: Path) -> None:
    net, calls = _github(tmp_path / "github", commit="c0ffee")
    cache = tmp_path / "cache"
    fetch_shared.fetch(COPY, cache, net)
    assert calls == [
        "clone https://github.com/kubeflow/manifests 9.9",
        "clone https://github.com/o/lib.git v1",
        "get https://github.com/o/set/releases/download/v2/manifests.yaml",
    ]
    release = cache / "kubeflow" / "9.9"
    files = sorted(str(p.relative_to(release)) for p in release.rglob("*") if p.is_file())
    assert files == [
        "manifests/LICENSE",
        "manifests/README.md",
        "manifests/applications/app/kustomization.yaml",
        f"manifests/{shared.KubeflowCopy.CONTROLLER}/sync.py",
        "manifests/example/kustomization.yaml",
        "release-tests/.github/workflows/test.yaml",
        f"release-tests/{shared.KubeflowCopy.CONTROLLER}/sync.py",
        "release-tests/tests/install.sh",
        "upstream/lib-v1/LICENSE",
        "upstream/lib-v1/config/default/cm.yaml",
        "upstream/lib-v1/config/default/kustomization.yaml",
        "upstream/set-v2/kustomization.yaml",
        "upstream/set-v2/manifests.yaml",
    ]
    assert shared.missing(cache, shared.Needs((COPY,), shared.NEEDS.model_registry)) == (
        shared.NEEDS.model_registry,
    )
    render = subprocess.run(
        [str(pinned_kubectl().path), "kustomize", str(release / "manifests" / "example")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.findall(r"name: (\w+)", render.stdout) == ["lib", "set"]


def test_a_tag_at_another_commit_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    net, _ = _github(tmp_path / "github", commit="badbad")
    cache = tmp_path / "cache"
    with pytest.raises(fetch_shared.FetchError, match=r"9\.9 is commit badbad; .* says c0ffee"):
        fetch_shared.fetch(COPY, cache, net)
    assert list(cache.iterdir()) == []
