"""`kfstack plan` and build_plan on bad input (the real full plan: tests/release/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import plan as plan_cli
from infra.kubeflow.core import build_plan
from infra.kubeflow.errors import CatalogueError, SourceError
from infra.kubeflow.settings import ManifestSource
from tests.settings import full_settings


def test_unknown_component_and_missing_source(kubeflow_manifests: Path, tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="unknown component 'katlib'"):
        build_plan(full_settings(kubeflow_manifests, components=("katlib",)), cache_dir=tmp_path)
    missing = full_settings(kubeflow_manifests, source=ManifestSource(path=tmp_path / "x"))
    with pytest.raises(SourceError, match=r"kubeflow\.source\.path"):
        build_plan(missing, cache_dir=tmp_path)


# --- the CLI ----------------------------------------------------------------------------------


def _stack(tmp_path: Path) -> Path:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.t.yaml").write_text("config: {}\n")
    return stacks


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_cli.main(["-s", "nope", "--stack-dir", str(_stack(tmp_path))]) == 2
    assert "stacks in" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["file", "under-a-file", "not-writable"])
def test_cli_bad_out_fails_before_rendering(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*_a: object, **_k: object) -> object:
        raise AssertionError("rendered despite a bad --out")

    monkeypatch.setattr("infra.kubeflow.build_plan", never)
    monkeypatch.setattr("infra.config.kubeflow_settings_from_stack_file", never)
    target = tmp_path / "plan.txt"
    target.write_text("not a folder")
    out = {"file": target, "under-a-file": target / "sub", "not-writable": tmp_path / "new"}[case]
    if case == "not-writable":
        monkeypatch.setattr("infra.plan.os.access", lambda *_a: False)
    argv = ["-s", "t", "--stack-dir", str(_stack(tmp_path)), "--out", str(out)]
    assert plan_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--out" in err and ("not writable" in err if case == "not-writable" else "file" in err)
