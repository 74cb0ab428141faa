"""The full plan of the real 26.03 release: its objects, credentials and the CLI on it."""

from __future__ import annotations

import base64
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from infra import plan as plan_cli
from infra.kubeflow.core import build_plan
from infra.kubeflow.objects import SECRET_TOKEN_RE, ObjectKey
from infra.kubeflow.settings import ManifestSource
from tests.release.conftest import FullPlan
from tests.settings import full_settings
from tests.unit.kubeflow.test_plan import _stack

DEX_DEFAULT_HASH = "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72"
DEFAULTS = (
    "12341234",
    DEX_DEFAULT_HASH,
    "minio123",
    "pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok",  # oauth2-proxy / dex client secret
    "7d16fee92f8d11b8940b081b3f8b8acb",  # oauth2-proxy cookie secret
)


def _serialized(full_plan: FullPlan) -> str:
    return json.dumps([o.manifest for o in full_plan.plan.objects], sort_keys=True)


def test_full_plan_holds_every_example_object(full_plan: FullPlan) -> None:
    assert len(full_plan.example_keys) == 675
    objects = full_plan.plan.objects
    release = {o.key for o in objects if o.origin == "release"}
    assert release == full_plan.example_keys
    for extra in (o for o in objects if o.key not in full_plan.example_keys):
        assert extra.origin == "stack" and extra.reason


def test_full_plan_shape(full_plan: FullPlan) -> None:
    plan = full_plan.plan
    keys = [o.key for o in plan.objects]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert plan.errors == ()
    assert sum(len(w) for w in plan.waves) == len(keys)
    assert len(plan.waves) >= 3 and len(plan.critical_path) >= 3
    components = Counter(o.component for o in plan.objects)
    assert set(components) == set(plan.components)
    data = {o.key for o in plan.objects if o.holds_data}
    assert ObjectKey("", "PersistentVolumeClaim", "kubeflow", "mysql-pv-claim") in data
    assert ObjectKey("apps", "Deployment", "kubeflow", "katib-mysql") in data
    assert ObjectKey("apps", "Deployment", "kubeflow", "ml-pipeline") not in data
    # a declared edge: the KFP API server after its database
    api = ObjectKey("apps", "Deployment", "kubeflow", "ml-pipeline")
    assert ObjectKey("apps", "Deployment", "kubeflow", "mysql") in plan.edges[api]


def test_no_default_credential_anywhere(full_plan: FullPlan) -> None:
    text = _serialized(full_plan)
    for value in DEFAULTS:
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text
    by_key = {o.key: o.manifest for o in full_plan.plan.objects}
    katib = by_key[ObjectKey("", "Secret", "kubeflow", "katib-mysql-secrets")]
    assert katib.get("data") is None
    assert SECRET_TOKEN_RE.fullmatch(katib["stringData"]["MYSQL_ROOT_PASSWORD"])
    mysql = by_key[ObjectKey("", "Secret", "kubeflow", "mysql-secret")]
    assert SECRET_TOKEN_RE.fullmatch(mysql["stringData"]["password"])
    assert "MYSQL_ALLOW_EMPTY_PASSWORD" not in text


def test_every_token_is_a_listed_secret(full_plan: FullPlan) -> None:
    used = set(SECRET_TOKEN_RE.findall(_serialized(full_plan)))
    listed = {s.name for s in full_plan.plan.secrets}
    assert used == listed
    assert {"dex-user-password-hash", "katib-db-password", "object-store-secret-key"} <= listed


def test_plan_is_deterministic_with_and_without_cache(
    full_plan: FullPlan, copy_cache: Path
) -> None:
    warm = build_plan(full_plan.settings, cache_dir=copy_cache)  # the cached plan
    shutil.rmtree(copy_cache / "plans")
    recomputed = build_plan(full_plan.settings, cache_dir=copy_cache)  # from the cached render
    for other in (warm, recomputed):
        assert other.objects == full_plan.plan.objects
        assert other.edges == full_plan.plan.edges
        assert other.waves == full_plan.plan.waves
        assert other.secrets == full_plan.plan.secrets
    assert (copy_cache / "plans").is_dir()


def test_ml_core_kubernetes_definitions(full_plan: FullPlan, kubeflow_manifests: Path) -> None:
    settings = full_settings(
        kubeflow_manifests, preset="ml-core", pipeline_definitions="kubernetes"
    )
    plan = build_plan(settings, cache_dir=full_plan.cache_dir)
    assert len(plan.objects) < len(full_plan.plan.objects)
    assert {"profiles", "knative-serving", "model-registry"} <= set(plan.components)
    assert "katib" not in plan.components
    keys = {o.key for o in plan.objects}
    crd = ObjectKey(
        "apiextensions.k8s.io", "CustomResourceDefinition", "", "pipelines.pipelines.kubeflow.org"
    )
    assert crd in keys and crd not in full_plan.example_keys
    registry = [o for o in plan.objects if o.component == "model-registry"]
    assert registry and all(o.key.namespace in ("kubeflow", "") for o in registry)
    assert plan.errors == ()


def test_cli_prints_and_writes(
    full_plan: FullPlan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen = {}

    def fake_settings(path: Path) -> object:
        seen["path"] = path
        return full_plan.settings

    def fake_build(settings: object, **kwargs: object) -> object:
        seen["settings"], seen["kwargs"] = settings, kwargs
        return full_plan.plan

    monkeypatch.setattr("infra.config.kubeflow_settings_from_stack_file", fake_settings)
    monkeypatch.setattr("infra.kubeflow.build_plan", fake_build)
    out = tmp_path / "out"
    status = plan_cli.main(
        [
            "-s",
            "t",
            "--stack-dir",
            str(_stack(tmp_path)),
            "--out",
            str(out),
            "--no-cache",
            "--source",
            str(tmp_path),
        ]
    )
    assert status == 0
    assert seen["path"] == tmp_path / "stacks" / "Pulumi.t.yaml"
    assert seen["settings"].source.path == tmp_path.resolve()  # type: ignore[attr-defined]
    assert seen["kwargs"]["use_cache"] is False  # type: ignore[index]
    printed = capsys.readouterr().out
    assert "components (24)" in printed and "CustomResourceDefinition" in printed
    assert "install waves" in printed and "dex-user-password-hash" in printed
    files = sorted((out / "objects").iterdir())
    assert len(files) == len(full_plan.plan.objects)
    summary = json.loads((out / "plan.json").read_text())
    assert len(summary["waves"]) == len(full_plan.plan.waves)
    # The release's allowed exceptions, printed as written (brackets are not markup) and
    # listed with their reasons in plan.json.
    assert "[allowed] policy.mesh-allow-all" in printed
    gateway = "AuthorizationPolicy.security.istio.io istio-system/istio-ingressgateway"
    (entry,) = [f for f in summary["findings"] if gateway in f]
    assert entry.startswith("[allowed]") and "allowed: the ingress gateway is" in entry


def test_cli_plan_error_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    full_plan: FullPlan,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(
        "infra.config.kubeflow_settings_from_stack_file",
        lambda _path: full_settings(Path("/x"), source=ManifestSource(path=tmp_path / "gone")),
    )
    assert plan_cli.main(["-s", "t", "--stack-dir", str(_stack(tmp_path))]) == 2
    assert "kubeflow.source.path" in capsys.readouterr().err


def test_cli_error_findings_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_plan: FullPlan
) -> None:
    from dataclasses import replace

    from infra.kubeflow.objects import Finding

    bad = replace(full_plan.plan, findings=(Finding("x", "error", None, "bad"),))
    monkeypatch.setattr(
        "infra.config.kubeflow_settings_from_stack_file", lambda _p: full_plan.settings
    )
    monkeypatch.setattr("infra.kubeflow.build_plan", lambda *_a, **_k: bad)
    assert plan_cli.main(["-s", "t", "--stack-dir", str(_stack(tmp_path))]) == 2 - 1
