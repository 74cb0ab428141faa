"""The compiled pipeline: golden IR YAML (SDK versions stripped), its DAG picture, the CLI."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ml.components import KFSTACK_IMAGE
from ml.pipelines.dag import read_dag, to_mermaid, to_svg
from ml.pipelines.training import compile_pipeline

GOLDEN = Path(__file__).parent / "golden" / "training_pipeline.yaml"
Main = Callable[[list[str]], int]


def normalise(text: str) -> str:
    """Strip what changes with the SDK or the image build, not with the pipeline."""
    text = re.sub(r"^sdkVersion: .*$", "sdkVersion: KFP", text, flags=re.M)
    text = re.sub(r"kfp==[0-9][^'\"\s]*", "kfp==VERSION", text)
    return re.sub(r"@sha256:[0-9a-f]{64}", "@sha256:DIGEST", text)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipeline(tmp_path_factory.mktemp("compiled") / "training.yaml")


def test_compiled_pipeline_matches_golden(compiled: Path) -> None:
    text = normalise(compiled.read_text(encoding="utf-8"))
    if os.environ.get("KFSTACK_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), "no golden file: run with KFSTACK_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "compiled pipeline changed: review, then regenerate with KFSTACK_UPDATE_GOLDEN=1"
    )


def test_normalise_strips_versions_and_digests() -> None:
    text = "sdkVersion: kfp-2.17.3\nimage: a/b@sha256:" + "0" * 64 + "\n'kfp==2.17.3'\n"
    assert normalise(text) == "sdkVersion: KFP\nimage: a/b@sha256:DIGEST\n'kfp==VERSION'\n"


def test_spec_has_the_gate_and_installs_nothing(compiled: Path) -> None:
    spec = yaml.safe_load(compiled.read_text())
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {
        "importer",
        "ingest-validate",
        "train",
        "evaluate",
        "compare",
        "condition-1",
    }
    gate = tasks["condition-1"]
    assert "pipelinechannel--compare-Output" in gate["triggerPolicy"]["condition"]
    assert set(spec["components"]["comp-condition-1"]["dag"]["tasks"]) == {"write-release"}
    executors = spec["deploymentSpec"]["executors"]
    images = {e["container"]["image"] for e in executors.values() if "container" in e}
    assert images == {KFSTACK_IMAGE}
    assert not any("pip install" in str(e) for e in executors.values())


def test_compile_with_another_image(tmp_path: Path) -> None:
    out = compile_pipeline(tmp_path / "p.yaml", image="registry.local/ml:dev")
    text = out.read_text()
    assert "image: registry.local/ml:dev" in text and KFSTACK_IMAGE not in text
    with pytest.raises(ValueError, match="container image reference"):
        compile_pipeline(tmp_path / "q.yaml", image="has space")


def test_dag_follows_the_flow_and_the_gate(compiled: Path) -> None:
    dag = read_dag(yaml.safe_load(compiled.read_text()))
    assert dag.edges == {
        ("importer", "ingest-validate"),
        ("ingest-validate", "train"),
        ("train", "evaluate"),
        ("evaluate", "compare"),
        ("compare", "write-release"),
    }
    assert dag.nodes["write-release"].group == "condition-1"
    assert "compare output == true" in dag.groups["condition-1"]
    assert dag.nodes["ingest-validate"].label == "data preparation"
    svg = to_svg(dag)
    assert svg.count('class="task"') == 6 and "stroke-dasharray" in svg
    assert svg.count("marker-end=") == 5
    mermaid = to_mermaid(dag)
    assert (
        mermaid.startswith("flowchart TD") and mermaid.count("-->") == 5 and "subgraph" in mermaid
    )


def test_committed_dag_picture_is_current(compiled: Path) -> None:
    picture = Path(__file__).resolve().parents[3] / "docs" / "pipeline-dag.svg"
    expected = to_svg(read_dag(yaml.safe_load(compiled.read_text())))
    assert picture.read_text(encoding="utf-8") == expected, (
        "regenerate: kfstack pipeline compile --out p.yaml && "
        "kfstack pipeline dag --spec p.yaml --out docs/pipeline-dag.svg"
    )


def test_cli_compile_and_dag(
    kfstack: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "p.yaml"
    image = "ghcr.io/kfstack/ml@sha256:" + "0" * 64
    assert kfstack(["pipeline", "compile", "--out", str(spec), "--image", image]) == 0
    assert kfstack(["pipeline", "dag", "--spec", str(spec), "--out", str(tmp_path / "d.mmd")]) == 0
    assert (tmp_path / "d.mmd").read_text().startswith("flowchart TD")
    capsys.readouterr()
    assert kfstack(["pipeline", "dag", "--spec", str(spec), "--out", str(tmp_path / "d.txt")]) == 2
    assert "give a .svg, .mmd or .md file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "compiled pipeline not found"),
        ("a: [1", "not a YAML"),
        ("a: 1\n", "no root.dag.tasks"),
    ],
)
def test_cli_dag_bad_spec_exits_2(
    kfstack: Main,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    spec = tmp_path / "spec.yaml"
    if content is not None:
        spec.write_text(content)
    assert kfstack(["pipeline", "dag", "--spec", str(spec), "--out", str(tmp_path / "d.svg")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_run_local_bad_input_exits_2(
    kfstack: Main, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("a,y\n1,2\n")
    base = ["pipeline", "run-local", "--label", "y", "--out", str(tmp_path / "o")]
    assert kfstack([*base, "--csv", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv: CSV not found" in capsys.readouterr().err
    bad = tmp_path / "serving.json"
    bad.write_text('{"name": "x"')
    assert kfstack([*base, "--csv", str(csv), "--serving-release", str(bad)]) == 2
    assert "malformed JSON" in capsys.readouterr().err
    assert kfstack([*base, "--csv", str(csv), "--numeric", "a", "--ignore", "a"]) == 2
    assert "columns declared more than once: ['a']" in capsys.readouterr().err
