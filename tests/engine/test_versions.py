"""The engine's version table agrees with uv.lock and the release (runs in `make test`)."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from infra.config_model import SUPPORTED_KUBERNETES
from tests.engine.harness import ENGINE_BUILD, REPO


def _table() -> dict[str, str]:
    rows = {}
    for line in (REPO / "engine" / "versions.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            rows[key] = value
    return rows


def _locked(name: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == name)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_cli_is_at_least_the_python_sdk_of_uv_lock() -> None:
    assert _version(_table()["PULUMI_CLI"]) >= _version(_locked("pulumi"))


def test_the_control_plane_is_a_kubernetes_version_the_release_supports() -> None:
    major_minor = ".".join(_table()["KUBERNETES"].split(".")[:2])
    assert major_minor in SUPPORTED_KUBERNETES["26.03"]
    assert _table()["ETCD"].startswith("3.6.")


def test_versions_are_written_once() -> None:
    """uv.lock's versions are not repeated in the table, nor any table version in go.mod."""
    table = _table()
    assert _locked("pulumi") not in table.values()
    assert _locked("pulumi-kubernetes") not in table.values()
    for go_mod in (REPO / "engine").glob("*/go.mod"):
        text = go_mod.read_text()
        assert "require" not in text, f"{go_mod}: versions belong in engine/versions.env"


def test_the_cache_is_keyed_by_component_and_version(tmp_path: Path) -> None:
    env = {**os.environ, "KFSTACK_ENGINE_CACHE": str(tmp_path)}
    out = subprocess.run(
        [str(ENGINE_BUILD), "--print-env"], env=env, capture_output=True, text=True, check=True
    ).stdout
    path = next(line for line in out.splitlines() if line.startswith("export PATH="))
    assert f"{tmp_path}/pulumi-resource-kubernetes-{_locked('pulumi-kubernetes')}:" in path
    assert f"{tmp_path}/pulumi-language-python-{_locked('pulumi')}:" in path
    assert f"{tmp_path}/kubernetes-{_table()['KUBERNETES']}:" in path
    missing = subprocess.run(
        [str(ENGINE_BUILD), "--check"], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1
    assert "not built: etcd-" in missing.stdout
