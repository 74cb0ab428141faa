"""Manifest sources (local, git), the content digest, and the pinned, cached render."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from infra.kubeflow.catalogue import Component
from infra.kubeflow.core import build_plan, check_unique
from infra.kubeflow.errors import PlanError, RenderError, SourceError
from infra.kubeflow.objects import ObjectKey, PlannedObject
from infra.kubeflow.render import kustomize as render
from infra.kubeflow.render.kustomize import pinned_kubectl, render_components
from infra.kubeflow.render.source import resolve_source, source_digest
from infra.kubeflow.settings import ManifestSource
from tests.settings import kubeflow_settings

EXAMPLE = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    "resources:\n- ../apps/one\n- ../apps/two/base\n"
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _kustomization(*resources: str, extra: str = "") -> str:
    listed = "".join(f"- {r}\n" for r in resources)
    head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    return f"{head}resources:\n{listed}{extra}"


def _configmap(name: str, namespace: str | None = None) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{ns}data:\n  a: b\n"


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    """A minimal release layout: two components, one generated object, one sub-namespace."""
    root = tmp_path / "manifests"
    _write(root / "example" / "kustomization.yaml", EXAMPLE)
    _write(root / "apps" / "one" / "kustomization.yaml", _kustomization("cm.yaml"))
    _write(root / "apps" / "one" / "cm.yaml", _configmap("one", "ns1"))
    _write(
        root / "apps" / "two" / "base" / "kustomization.yaml",
        _kustomization(
            "cm.yaml",
            extra="configMapGenerator:\n- name: generated\n  literals:\n  - x=y\n",
        ),
    )
    _write(root / "apps" / "two" / "base" / "cm.yaml", _configmap("two"))
    return root


def _component(name: str, *paths: str, namespace: str | None = None) -> Component:
    return Component(name, name, paths, namespace=namespace)


TINY = (
    _component("one", "apps/one"),
    _component("two", "apps/two/base", namespace="ns2"),
)


# --- sources ---------------------------------------------------------------------------------


def test_local_source_accepts_root_and_parent(kubeflow_manifests: Path, tmp_path: Path) -> None:
    root = resolve_source(ManifestSource(path=kubeflow_manifests), cache_dir=tmp_path)
    assert root == kubeflow_manifests.resolve()
    parent = resolve_source(ManifestSource(path=kubeflow_manifests.parent), cache_dir=tmp_path)
    assert parent == root


def test_missing_path_names_path_and_config_key(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SourceError) as info:
        resolve_source(ManifestSource(path=missing), cache_dir=tmp_path)
    assert str(missing) in str(info.value) and "kubeflow.source.path" in str(info.value)


def test_wrong_layout_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"does not hold the Kubeflow manifests layout"):
        resolve_source(ManifestSource(path=tmp_path / "empty"), cache_dir=tmp_path)


def test_source_must_be_exactly_one_kind(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="exactly one"):
        resolve_source(ManifestSource(), cache_dir=tmp_path)
    with pytest.raises(SourceError, match="exactly one"):
        resolve_source(ManifestSource(path=tmp_path, git_url="x"), cache_dir=tmp_path)
    with pytest.raises(SourceError, match="pinned tag or commit"):
        resolve_source(ManifestSource(git_url="file:///x"), cache_dir=tmp_path)


def _git(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def bare_repo(tiny_root: Path, tmp_path: Path) -> tuple[str, str]:
    """A local bare repo holding the tiny layout at its root; returns (url, commit)."""
    work = tmp_path / "work"
    _git("init", "--quiet", "-b", "main", str(work))
    for file in tiny_root.rglob("*"):
        if file.is_file():
            _write(work / file.relative_to(tiny_root), file.read_text())
    _git("add", ".", cwd=work)
    _git("commit", "--quiet", "-m", "release", cwd=work)
    _git("tag", "v1", cwd=work)
    commit = _git("rev-parse", "HEAD", cwd=work)
    bare = tmp_path / "repo.git"
    _git("clone", "--quiet", "--bare", str(work), str(bare))
    return bare.as_uri(), commit


def test_git_source_by_tag_and_by_commit(bare_repo: tuple[str, str], tmp_path: Path) -> None:
    url, commit = bare_repo
    cache = tmp_path / "cache"
    by_tag = resolve_source(ManifestSource(git_url=url, git_ref="v1"), cache_dir=cache)
    assert (by_tag / "apps" / "one" / "cm.yaml").is_file()
    assert by_tag.is_relative_to(cache / "sources")
    by_commit = resolve_source(ManifestSource(git_url=url, git_ref=commit), cache_dir=cache)
    assert by_commit != by_tag
    assert source_digest(by_commit) == source_digest(by_tag)
    # a second resolve reuses the checkout: it works with the remote gone
    (tmp_path / "repo.git").rename(tmp_path / "gone.git")
    again = resolve_source(ManifestSource(git_url=url, git_ref="v1"), cache_dir=cache)
    assert again == by_tag


def test_git_source_bad_ref_is_a_clear_error(bare_repo: tuple[str, str], tmp_path: Path) -> None:
    url, _ = bare_repo
    with pytest.raises(SourceError, match=r"git clone of .* failed") as info:
        resolve_source(ManifestSource(git_url=url, git_ref="v9"), cache_dir=tmp_path / "c")
    assert "kubeflow.source.git_ref" in str(info.value)
    assert not list((tmp_path / "c" / "sources").iterdir())  # no half checkout left


def test_digest_follows_content(tiny_root: Path) -> None:
    first = source_digest(tiny_root)
    assert source_digest(tiny_root) == first
    (tiny_root / "apps" / "one" / "cm.yaml").write_text(_configmap("changed", "ns1"))
    assert source_digest(tiny_root) != first


# --- kubectl and render ------------------------------------------------------------------------


def test_pinned_kubectl_is_the_wheels_1_37() -> None:
    kubectl = pinned_kubectl()
    assert kubectl.version.startswith("v1.37.")
    assert kubectl.path in render.kubectl_candidates()


def test_kubectl_on_path_is_never_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "kubectl"
    _write(fake, "#!/bin/sh\necho fake\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.setattr(render, "kubectl_candidates", lambda: (tmp_path / "none" / "kubectl",))
    render.pinned_kubectl.cache_clear()
    try:
        with pytest.raises(RenderError, match="never uses a kubectl from PATH"):
            pinned_kubectl()
    finally:
        render.pinned_kubectl.cache_clear()


def test_wrong_kubectl_version_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "kubectl"
    _write(fake, '#!/bin/sh\necho \'{"clientVersion": {"gitVersion": "v1.30.0"}}\'\n')
    fake.chmod(0o755)
    monkeypatch.setattr(render, "kubectl_candidates", lambda: (fake,))
    render.pinned_kubectl.cache_clear()
    try:
        with pytest.raises(RenderError, match=r"v1\.30\.0, kfstack needs 1\.37\.x"):
            pinned_kubectl()
    finally:
        render.pinned_kubectl.cache_clear()


def test_render_attributes_and_caches(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = kubeflow_settings()
    digest = source_digest(tiny_root)
    cache = tmp_path / "cache"
    rendered = render_components(tiny_root, TINY, settings, digest=digest, cache_dir=cache)
    by_name = {r.manifest["metadata"]["name"]: r for r in rendered}
    assert set(by_name) == {"one", "two", "generated-" + by_name_suffix(by_name)}
    assert by_name["one"].component == "one"
    assert by_name["two"].component == "two"
    assert by_name["two"].manifest["metadata"]["namespace"] == "ns2"  # namespace wrapper
    generated = next(r for n, r in by_name.items() if n.startswith("generated-"))
    assert generated.component == "two"
    for r in rendered:
        assert "annotations" not in r.manifest["metadata"]  # origin annotation removed
    assert list((cache / "render").glob("*.json"))
    assert not list(tiny_root.parent.glob("**/kfstack-render-*"))  # nothing written in source

    def boom(*_args: object) -> bytes:
        raise AssertionError("kubectl called on a warm cache")

    monkeypatch.setattr(render, "run_kustomize", boom)
    again = render_components(tiny_root, TINY, settings, digest=digest, cache_dir=cache)
    assert again == rendered
    with pytest.raises(AssertionError, match="warm cache"):
        render_components(tiny_root, TINY, settings, digest="other", cache_dir=cache)


def by_name_suffix(by_name: dict[str, object]) -> str:
    return next(n for n in by_name if n.startswith("generated-")).removeprefix("generated-")


def test_two_components_rendering_one_object_is_an_error(tiny_root: Path, tmp_path: Path) -> None:
    twice = (TINY[0], replace(TINY[0], name="one-again"))
    rendered = render_components(
        tiny_root, twice, kubeflow_settings(), digest="d", cache_dir=tmp_path, use_cache=False
    )
    assert [r.component for r in rendered] == ["one", "one-again"]
    objects = [PlannedObject(ObjectKey.of(r.manifest), r.manifest, r.component) for r in rendered]
    with pytest.raises(PlanError, match=r"ConfigMap ns1/one: 2 objects with this identity"):
        check_unique(objects)


def test_kustomize_error_carries_stderr(tiny_root: Path, tmp_path: Path) -> None:
    _write(tiny_root / "apps" / "one" / "kustomization.yaml", _kustomization("missing.yaml"))
    with pytest.raises(RenderError) as info:
        render_components(
            tiny_root, TINY, kubeflow_settings(), digest="d", cache_dir=tmp_path, use_cache=False
        )
    message = str(info.value)
    assert message.startswith("kubectl kustomize failed:\none: ")
    assert "missing.yaml" in message
    assert "# Warning" not in message


def test_build_plan_on_a_broken_source_reports_every_failing_component(
    tiny_root: Path, tmp_path: Path
) -> None:
    _write(tiny_root / "apps" / "one" / "kustomization.yaml", _kustomization("missing.yaml"))
    _write(tiny_root / "apps" / "two" / "base" / "kustomization.yaml", _kustomization("gone.yaml"))
    settings = kubeflow_settings(preset="full", source=ManifestSource(path=tiny_root))
    seen: list[str] = []
    with pytest.raises(RenderError, match="kubectl kustomize failed") as info:
        build_plan(settings, cache_dir=tmp_path, progress=seen.append)
    message = str(info.value)
    assert "\none: " in message and "missing.yaml" in message
    assert "\ntwo: " in message and "gone.yaml" in message
    assert sum("failed" in line for line in seen) == 2  # each reported as it failed


def test_explicit_component_missing_from_the_source(tiny_root: Path, tmp_path: Path) -> None:
    settings = kubeflow_settings(preset="ml-core", source=ManifestSource(path=tiny_root))
    with pytest.raises(PlanError, match=r"component 'pipelines' is not in this source"):
        build_plan(settings, cache_dir=tmp_path)


def test_an_unknown_layout_plans_as_rendered_with_warnings(tiny_root: Path, tmp_path: Path) -> None:
    settings = kubeflow_settings(preset="full", source=ManifestSource(path=tiny_root))
    plan = build_plan(settings, cache_dir=tmp_path)
    assert plan.unknown_components == ("one", "two")
    assert {o.component for o in plan.objects} == {"one", "two"}
    rules = {f.rule for f in plan.findings}
    assert {"release.undetected", "catalogue.unplaced"} <= rules
    text = "\n".join(f.message for f in plan.findings)
    assert "example entry 'apps/one' matches no component of the 26.03 table" in text
    assert "could not place component 'dex'" in text


def test_build_plan_missing_path(tmp_path: Path) -> None:
    settings = kubeflow_settings(source=ManifestSource(path=tmp_path / "gone"))
    with pytest.raises(SourceError, match=r"kubeflow\.source\.path: manifests path .*gone"):
        build_plan(settings, cache_dir=tmp_path)


def test_cached_digest_rereads_only_changed_files(tiny_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = source_digest(tiny_root, cache_dir=cache)
    assert first == source_digest(tiny_root)  # the same digest with or without the cache
    assert list((cache / "digests").glob("*.json"))
    assert source_digest(tiny_root, cache_dir=cache) == first
    (tiny_root / "apps" / "one" / "cm.yaml").write_text(_configmap("changed-name", "ns1"))
    changed = source_digest(tiny_root, cache_dir=cache)
    assert changed != first and changed == source_digest(tiny_root)


@pytest.mark.parametrize(
    ("user", "expected"), [({}, "400 512MiB"), ({"GOGC": "100"}, "100 512MiB")]
)
def test_kustomize_runs_with_a_rarer_go_gc_unless_the_user_set_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: dict[str, str], expected: str
) -> None:
    fake = tmp_path / "kubectl"
    fake.write_text('#!/bin/sh\necho "$GOGC $GOMEMLIMIT"\n')
    fake.chmod(0o755)
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    for name, value in user.items():
        monkeypatch.setenv(name, value)
    output = render.run_kustomize(render.Kubectl(fake, "v1.37.1"), tmp_path)
    assert output.decode().strip() == expected
