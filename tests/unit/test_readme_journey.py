"""README's "The whole journey" as a person pastes it: commands, flags, files, variables.

Each `kfstack` command is parsed by the real CLI's parser (`kfstack.cli.app.build_parser`);
every local file a command names is shipped in the repository or made by an earlier
command; every variable a command uses is set earlier; the example answer has the outputs
the model's serving signature gives a classifier.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from kfstack.cli.app import build_parser
from ml.model.serving import CLASSES, LABEL, PROBABILITIES
from tests import journey
from tests.conftest import REPO

TOOLS = {"mkdir", "make", "pulumi", "kubectl", "uv", "aws", "curl", "export", "jq"}
LOCAL = re.compile(r"(?<![\w/.:$])((?:build|ds|run|data)/[\w./-]*)")
VARIABLE = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)")
MAKES = ("--out", "--run-id-file")  # flags whose value a command writes
SHELL = {"PWD", "HOME"}


def _shipped(path: str) -> bool:
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", path], cwd=REPO, capture_output=True, check=False
    )
    return tracked.returncode == 0


def _made_by(command: journey.Command) -> set[str]:
    """What the command writes: a file, or a folder with what is in it (`OUT/`).

    A folder made by `mkdir` is empty: the files in it must be made by later commands.
    """
    made = {command.redirect()} | {command.flag(f) for f in MAKES}
    if command.words[0] == "mkdir":
        made |= {w.rstrip("/") for w in command.words[2:]}
    return {m for m in made if m}


def _under(path: str, made: set[str]) -> bool:
    return any(
        path.rstrip("/") == m.rstrip("/") or (m.endswith("/") and path.startswith(m)) for m in made
    )


def test_the_journey_is_the_tools_it_names() -> None:
    commands = journey.commands()
    assert len(commands) >= 15
    assert {c.words[0] for c in commands} <= TOOLS


def test_every_kfstack_command_exists_and_its_flags_parse(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    argvs = [c.kfstack_argv for c in journey.commands() if c.kfstack_argv is not None]
    assert {tuple(a[:2]) for a in argvs} >= {
        ("data", "build"),
        ("pipeline", "run"),
        ("release", "fetch"),
        ("pipeline", "run-local"),
        ("release", "publish"),
        ("serve", "check"),
    }
    for argv in argvs:
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"kfstack {' '.join(argv)}: {capsys.readouterr().err}")


def test_every_file_a_command_reads_is_shipped_or_made_earlier() -> None:
    made: set[str] = set()
    for command in journey.commands():
        outputs = _made_by(command)
        for path in LOCAL.findall(command.line):
            if _under(path, outputs) or _under(path, made) or _shipped(path):
                continue
            pytest.fail(f"{command.line}\n  reads {path}, which no earlier step makes")
        made |= outputs


def test_the_held_out_split_serve_check_reads_comes_from_data_build() -> None:
    commands = journey.commands()
    check = next(i for i, c in enumerate(commands) if c.words[3:5] == ("serve", "check"))
    build = next(i for i, c in enumerate(commands) if c.words[3:5] == ("data", "build"))
    assert build < check
    split = commands[check].flag("--csv")
    assert split == f"{commands[build].flag('--out').rstrip('/')}/test.csv"  # type: ignore[union-attr]


def test_every_variable_is_set_before_it_is_used() -> None:
    exported: set[str] = set(SHELL)
    for command in journey.commands():
        used = set(VARIABLE.findall(command.line)) - exported
        if command.words[0] == "export":
            name = command.words[1].partition("=")[0]
            used -= {name}
            exported.add(name)
        assert not used, f"{command.line}\n  uses {sorted(used)}, set by no earlier step"
    assert "PULUMI_CONFIG_PASSPHRASE" in exported  # `--show-secrets` needs it


def test_pulumi_secrets_come_after_the_passphrase() -> None:
    commands = journey.commands()
    passphrase = next(i for i, c in enumerate(commands) if "PULUMI_CONFIG_PASSPHRASE=" in c.line)
    secrets = [i for i, c in enumerate(commands) if "--show-secrets" in c.words]
    assert secrets and min(secrets) > passphrase


def test_the_example_answer_has_the_signatures_outputs() -> None:
    text = journey.section()
    answer = json.loads(re.search(r"```json\n(.*?)\n *```", text, re.DOTALL).group(1))  # type: ignore[union-attr]
    (prediction,) = answer["predictions"]
    assert set(prediction) == {LABEL, PROBABILITIES, CLASSES}
    assert prediction[LABEL] in prediction[CLASSES]
    assert abs(sum(prediction[PROBABILITIES]) - 1) < 1e-3
    assert len(prediction[PROBABILITIES]) == len(prediction[CLASSES])
    header = (REPO / "data/iris.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    instance = re.search(r"-d '(\{.*\})'", text).group(1)  # type: ignore[union-attr]
    assert set(json.loads(instance)["instances"][0]) == set(header) - {"species"}
