"""`kfstack data ...` and `kfstack train` through kfstack.cli.main: exit codes and messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Main = Callable[[list[str]], int]


def build(csv: Path, label: str, out: Path, *extra: str) -> list[str]:
    """`kfstack data build` of `csv` into `out`, with more options."""
    return ["data", "build", "--csv", str(csv), "--label", label, "--out", str(out), *extra]


def test_inspect_prints_kinds(
    kfstack: Main, people_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(["data", "inspect", str(people_csv)]) == 0
    out = capsys.readouterr().out
    assert "income (k)" in out and "categorical" in out and "4000 rows" in out


def test_build_bad_csv_exits_2_with_line_and_column(
    kfstack: Main, make_csv: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = make_csv("age,label\n1,yes\nabc,no\n")
    status = kfstack(build(csv, "label", tmp_path / "o", "--numeric", "age"))
    err = capsys.readouterr().err
    assert status == 2
    assert "line 3, column 'age': expected a number, found 'abc'" in err
    assert "Traceback" not in err


def test_build_missing_file_and_bad_options_exit_2(
    kfstack: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(build(tmp_path / "nope.csv", "y", tmp_path)) == 2
    assert "nope.csv" in capsys.readouterr().err
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n1,a\n2,b\n")
    args = build(csv, "y", tmp_path / "o", "--task", "regression", "--classes", "a", "b")
    assert kfstack(args) == 2
    assert "classes are only allowed with task classification" in capsys.readouterr().err


def test_build_prints_summary(
    kfstack: Main, people_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build(people_csv, "label", tmp_path / "ds", "--categorical", "city")
    assert kfstack([*args, "--ignore", "row id"]) == 0
    out = capsys.readouterr().out
    assert "'income (k)' -> income_k" in out
    assert "filled cells: age: 100, city: 73" in out
    assert "note:" not in out  # no test row repeats a train row's features
    assert (tmp_path / "ds" / "schema.json").is_file()


def test_build_notes_test_rows_that_repeat_train_rows(
    kfstack: Main, make_csv: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 50 people, each in 4 rows (years) with the same features: a split by rows shares them
    lines = ["income,plan,health"]
    lines += [f"{1000 + 37 * (i % 50)},{i % 5},{'ab'[(i % 50) % 2]}" for i in range(200)]
    assert kfstack(build(make_csv("\n".join(lines) + "\n"), "health", tmp_path / "o")) == 0
    out = capsys.readouterr().out
    assert "note: " in out and "test rows (" in out and "have exactly the feature values" in out
    assert "--group COL" in out


@pytest.mark.slow
def test_train_exports_then_refuses_to_overwrite(
    kfstack: Main, people_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(build(people_csv, "label", tmp_path / "ds", "--ignore", "row id")) == 0
    train = ["train", "--data", str(tmp_path / "ds"), "--out", str(tmp_path / "m"), "--epochs", "2"]
    assert kfstack(train) == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "exported version 1" in out and "accuracy" in out
    assert "training reached its epoch limit (2) before early stopping" in out  # never silent
    assert (tmp_path / "m" / "1" / "saved_model.pb").is_file()
    assert kfstack([*train, "--version", "1"]) == 2
    assert "never overwritten" in capsys.readouterr().err


def test_train_epochs_0_is_refused_before_anything_runs(
    kfstack: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        kfstack(["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"), "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "must be a positive integer (>= 1), got 0" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_build_drop_option_and_short_numbers_unwrapped_when_piped(
    kfstack: Main, make_csv: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_name = "a column with a rather long name (measured in units nobody uses any more)"
    lines = [f"id,{long_name},label"]
    lines += [f"{i},{43.7 if i % 3 else ''},{'ab'[i % 2]}" for i in range(40)]
    csv = make_csv("\n".join(lines) + "\n")
    assert kfstack(build(csv, "label", tmp_path / "o", "--drop", "id")) == 0
    out = capsys.readouterr().out
    assert f"'{long_name}' -> " in out  # one line, not wrapped at 80 columns
    assert "fill 43.7)" in out
    assert "'id'" not in out


def test_build_says_which_columns_are_read_as_dates_or_on_a_log_scale(
    kfstack: Main, make_csv: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["price,day,size,label"]
    lines += [f"{2 ** (i % 12)},2024/01/{i % 28 + 1:02d},{i % 7},{'ab'[i % 2]}" for i in range(60)]
    assert kfstack(build(make_csv("\n".join(lines) + "\n"), "label", tmp_path / "o")) == 0
    out = {
        line.split("'")[1]: line for line in capsys.readouterr().out.splitlines() if " -> " in line
    }
    assert "read on a log scale (skewness " in out["price"]
    assert out["day"].endswith(", read as dates (ymd-slash)")
    assert out["size"].endswith(")")  # evenly spread: read linearly


def test_inspect_takes_csv_like_build(
    kfstack: Main, people_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kfstack(["data", "inspect", "--csv", str(people_csv), "--label", "label"]) == 0
    out = capsys.readouterr().out
    assert "4000 rows" in out
    assert "column 'row id': ID-like" in out and "--drop 'row id'" in out


def test_help_shows_defaults(kfstack: Main, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        kfstack(["pipeline", "run-local", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--delimiter" in text and "(default: ',')" in text
    assert "rows per batch (default: auto" in text
    assert "(default: 0.001)" in text and "--verbose" in text and "--min-gain" in text


def test_tensorflow_log_lines_are_dropped_from_stderr_others_kept(
    capfd: pytest.CaptureFixture[str],
) -> None:
    import os

    from kfstack.cli.output import filtered_stderr

    with filtered_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are\n")
        os.write(2, b"I0000 00:00:1796588661.744984     531 port.cc:153] oneDNN custom ops\n")
        os.write(2, b"2026-12-06 10:00:00.000001: W tensorflow/core/util.cc:12] cuda\n")
        os.write(2, b"a real problem\n")
    assert capfd.readouterr().err == "a real problem\n"


@pytest.mark.slow
def test_train_prints_no_tensorflow_log_line(people_csv: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from ml.data import DatasetSpec, build_dataset

    build_dataset(people_csv, DatasetSpec(label="label", ignore=("row id",)), tmp_path / "ds")
    kfstack = Path(sys.executable).parent / "kfstack"  # the installed command, a new process
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"  # as in the issue: absl's lines came all the same
    args = ["train", "--data", str(tmp_path / "ds"), "--out", str(tmp_path / "m"), "--epochs", "1"]
    done = subprocess.run(
        [str(kfstack), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "exported version 1" in done.stdout
    assert done.stderr == ""
