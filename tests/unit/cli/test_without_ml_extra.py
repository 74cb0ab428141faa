"""Without the `ml` extra, every ML command says which extra to install and exits 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kfstack.cli import main
from kfstack.cli.frame import ML_MODULES, missing_extra

COMMANDS = [
    ["data", "inspect", "--csv", "{tmp}/data.csv"],
    ["data", "build", "--csv", "{tmp}/data.csv", "--label", "y", "--out", "{tmp}/ds"],
    ["train", "--data", "{tmp}/ds", "--out", "{tmp}/models"],
    ["pipeline", "compile", "--out", "{tmp}/p.yaml"],
    ["pipeline", "run-local", "--csv", "{tmp}/data.csv", "--label", "y", "--out", "{tmp}/run"],
    [
        "pipeline",
        "run",
        "--host",
        "http://127.0.0.1:9",
        "--csv-uri",
        "s3://b/d.csv",
        "--label=y",
        "--name=m",
    ],
    ["release", "fetch", "--host", "http://127.0.0.1:9", "--run", "r", "--out", "{tmp}/r.json"],
    ["release", "publish", "--run-dir", "{tmp}"],
    ["serve", "check", "--endpoint", "http://127.0.0.1:9", "--csv", "{tmp}/data.csv"],
]


@pytest.fixture
def no_ml_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports of the extra's modules fail as they do when it is not installed."""
    for name in list(sys.modules):
        root = name.partition(".")[0]
        if root in ML_MODULES or (root == "ml" and name != "ml"):
            # An import inside the test binds a new module as its parent's attribute
            # (`ml.data`); restoring that too keeps later tests patching the modules in use.
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and hasattr(sys.modules[parent], child):
                monkeypatch.setattr(sys.modules[parent], child, getattr(sys.modules[parent], child))
            monkeypatch.delitem(sys.modules, name)
    for root in ML_MODULES:
        monkeypatch.setitem(sys.modules, root, None)


@pytest.mark.usefixtures("no_ml_extra")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_ml_command_names_the_extra(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data.csv").write_text("x,y\n1,a\n2,b\n", encoding="utf-8")
    argv = [part.format(tmp=tmp_path) for part in command]
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: kfstack {command[0]}: this command needs the ml extra")
    assert "pip install 'kfstack[ml]'" in lines[0]
    assert "uv sync --extra ml" in lines[0]
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.usefixtures("no_ml_extra")
def test_help_works_without_the_extra(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("plan", "data", "train", "pipeline", "release", "serve"):
        assert command in out


def test_only_the_extras_modules_are_named() -> None:
    assert missing_extra(ModuleNotFoundError("no yaml", name="yaml")) is None
    message = missing_extra(ModuleNotFoundError("no tf", name="tensorflow.python"))
    assert message is not None
    assert "tensorflow is not installed" in message
