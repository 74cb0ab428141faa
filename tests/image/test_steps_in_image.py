"""Every step of the compiled pipeline, run inside the image `make image` built, equals run-local.

Each container task runs in a fresh container of the image (`buildah run`, chroot isolation,
`--network none`) as the image's user 10001, with the command and arguments the compiled
spec gives it and the executor input KFP's driver and launcher would write
(`tests/image/launcher.py`). The pipeline root is the one the release's own profile
controller (26.03 `sync.py`) gives the profile, and the CSV sits under the profile's
`private/<ns>/`, as in the README's journey. The same data and parameters go through
`kfstack pipeline run-local` (kfp.local); the outputs must be the same.

Opt-in: `make image` then `make image-test` (root).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from ml.model_release import load_release
from ml.pipelines.local import LocalRun, run_local
from ml.pipelines.training import compile_pipeline
from tests.image.container import BuiltImage, StepRunner, bucket_dir
from tests.image.launcher import Outputs, Run, run_pipeline
from tests.ml.conftest import HEADER, classification_rows, write_rows
from tests.ml.pipelines.test_run_local import PARAMS  # the parameters of its promoted run
from tests.profile_controller import ProfileGrant, profile_grant

pytestmark = pytest.mark.image

NAMESPACE = "kubeflow-user-example-com"
MODEL = "people-data"
VERSION = "20261206-image"
CONTAINER_TASKS = ["ingest-validate", "train", "evaluate", "compare", "write-release"]


@dataclass(frozen=True)
class InImage:
    """The in-image run: its steps and outputs, the bucket directory, the run."""

    outputs: Outputs
    bucket: Path
    run: Run

    def path(self, task: str, output: str) -> Path:
        """The host path of a task's output artifact in the bucket."""
        uri = self.outputs.artifacts[task][output]["uri"]
        return self.bucket / key_of(uri)


def key_of(uri: str) -> str:
    """The object key of a `minio://mlpipeline/...` or `s3://mlpipeline/...` URI."""
    scheme, rest = uri.split("://", 1)
    bucket, key = rest.split("/", 1)
    assert scheme in ("minio", "s3") and bucket == "mlpipeline", uri
    return key


@pytest.fixture(scope="module")
def grant() -> ProfileGrant:
    return profile_grant("26.03", NAMESPACE)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the CSV both runs read (800 rows of the people rule)."""
    here = tmp_path_factory.mktemp("in-image")
    write_rows(here / "People Data.csv", HEADER, classification_rows(800, seed=3))
    return here


@pytest.fixture(scope="module")
def csv(workdir: Path) -> Path:
    return workdir / "People Data.csv"


@pytest.fixture(scope="module")
def local(csv: Path, workdir: Path) -> LocalRun:
    return run_local(csv, workdir / "local", PARAMS, model_name=MODEL, version=VERSION)


@pytest.fixture(scope="module")
def spec(built_image: BuiltImage, workdir: Path) -> dict[str, Any]:
    """The pipeline compiled on the built image, parsed."""
    spec_file = compile_pipeline(workdir / "pipeline.yaml", image=built_image.reference)
    data: dict[str, Any] = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def in_image(
    built_image: BuiltImage, spec: dict[str, Any], csv: Path, grant: ProfileGrant, workdir: Path
) -> InImage:
    bucket = bucket_dir(workdir / "store")
    key = f"private/{NAMESPACE}/data/people-data.csv"
    assert grant.may_use(key)
    (bucket / key).parent.mkdir(parents=True)
    shutil.copyfile(csv, bucket / key)
    arguments = {
        **{k: v for k, v in PARAMS.items() if v is not None},
        "csv_uri": f"minio://mlpipeline/{key}",
        "model_name": MODEL,
        "version": VERSION,
        "serving_metrics": "",
    }
    run = Run(
        pipeline_root=grant.pipeline_root,
        pipeline_name=spec["pipelineInfo"]["name"],
        run_id=str(uuid.uuid4()),
        run_name="kfstack-training-in-image",
    )
    runner = StepRunner(built_image, bucket, workdir / "steps")
    outputs = run_pipeline(
        spec, arguments, run=run, runner=runner, new_id=lambda: str(uuid.uuid4())
    )
    return InImage(outputs, bucket, run)


def test_each_step_ran_the_compiled_command_in_the_built_image(
    in_image: InImage, spec: dict[str, Any], built_image: BuiltImage
) -> None:
    steps = in_image.outputs.steps
    assert [s.task for s in steps] == CONTAINER_TASKS
    executors = spec["deploymentSpec"]["executors"]
    for step in steps:
        container = executors[f"exec-{step.task}"]["container"]
        assert step.image == container["image"] == built_image.reference
        args = list(container["args"])
        at = args.index("{{$}}")
        assert step.argv[: len(container["command"])] == tuple(container["command"])
        tail = step.argv[len(container["command"]) :]
        assert tail[:at] + tail[at + 1 :] == tuple(args[:at] + args[at + 1 :])
        assert json.loads(tail[at]) == step.executor_input


def test_steps_run_as_the_image_user_with_no_network(
    built_image: BuiltImage, workdir: Path
) -> None:
    runner = StepRunner(built_image, bucket_dir(workdir / "probe"), workdir / "probe-steps")
    log = runner.run("probe", ("sh", "-c", "id -u; id -g; tail -n +3 /proc/net/dev"), {})
    uid, gid, *interfaces = log.split("\n")
    assert (uid, gid) == ("10001", "0")
    assert [line.split(":")[0].strip() for line in interfaces if line.strip()] == ["lo"]


def test_every_output_is_under_the_profiles_pipeline_root(
    in_image: InImage, grant: ProfileGrant
) -> None:
    for task in CONTAINER_TASKS:
        for artifact in in_image.outputs.artifacts[task].values():
            assert artifact["uri"].startswith(in_image.run.root + "/")
            assert in_image.run.root.startswith(grant.pipeline_root)
            assert grant.may_use(key_of(artifact["uri"])), artifact["uri"]


def test_the_dataset_is_byte_for_byte_run_locals(in_image: InImage, local: LocalRun) -> None:
    mine = in_image.path("ingest-validate", "dataset")
    theirs = local.run_dir / "ingest-validate" / "dataset"
    names = sorted(p.relative_to(mine).as_posix() for p in mine.rglob("*") if p.is_file())
    assert names == sorted(
        p.relative_to(theirs).as_posix() for p in theirs.rglob("*") if p.is_file()
    )
    for name in names:
        if name != "schema.json":
            assert (mine / name).read_bytes() == (theirs / name).read_bytes(), name
    # The schema names its source: the path the step read, here the launcher's local copy.
    schema, expected = (json.loads((d / "schema.json").read_text()) for d in (mine, theirs))
    assert schema.pop("source") == f"/minio/mlpipeline/private/{NAMESPACE}/data/people-data.csv"
    expected.pop("source")
    assert schema == expected


def test_metrics_decision_and_release_equal_run_locals(
    in_image: InImage, local: LocalRun, grant: ProfileGrant
) -> None:
    mine = json.loads(in_image.path("evaluate", "metrics").read_text())
    theirs = json.loads(local.metrics.read_text())
    assert mine.keys() == theirs.keys() and mine["split"] == theirs["split"]
    for part in ("metrics", "baseline"):
        assert mine[part] == pytest.approx(theirs[part], rel=1e-4, abs=1e-6), part
    assert in_image.outputs.parameters["compare"]["Output"] is local.promoted is True
    chart = in_image.outputs.artifacts["compare"]["chart"]["metadata"]
    assert chart["reason"] == local.reason
    assert local.release is not None
    released = load_release(in_image.path("write-release", "release"))
    expected = load_release(local.release)
    skip = {"storage_uri", "pipeline_run", "created_at", "metrics"}
    assert released.model_dump(exclude=skip) == expected.model_dump(exclude=skip)
    assert released.metrics == pytest.approx(expected.metrics, rel=1e-4, abs=1e-6)
    assert released.pipeline_run is not None
    assert released.pipeline_run.id == in_image.run.run_id
    # On a cluster the record names the model where the run left it, in the profile's root.
    model_uri = in_image.outputs.artifacts["train"]["model"]["uri"]
    assert released.storage_uri == "s3://mlpipeline/" + key_of(model_uri)
    assert grant.may_use(key_of(released.storage_uri))


def test_the_models_predict_alike(in_image: InImage, local: LocalRun) -> None:
    import tensorflow as tf

    rows = {
        "age": tf.constant([70.0, 20.0, np.nan, 41.5], tf.float64),
        "income_k": tf.constant([120.0, 10.0, 50.0, 48.0], tf.float64),
        "city": tf.constant(["paris", "lyon", "", "nice"]),
    }
    mine = in_image.path("train", "model") / "1"
    outputs = []
    for root in (mine, local.model / "1"):
        serving = tf.saved_model.load(str(root)).signatures["serving_default"]
        outputs.append(serving(**rows))
    assert sorted(p.name for p in mine.iterdir()) == sorted(
        p.name for p in (local.model / "1").iterdir()
    )
    np.testing.assert_allclose(
        outputs[0]["probabilities"].numpy(), outputs[1]["probabilities"].numpy(), atol=1e-5
    )
    assert list(outputs[0]["label"].numpy()) == list(outputs[1]["label"].numpy())


def certificate_lines(folder: Path) -> list[str]:
    """A line from the middle of each certificate's base64 body: unique to that certificate."""
    lines = []
    for pem in sorted(folder.glob("*.crt")):
        body = [line for line in pem.read_text().splitlines() if line and "-----" not in line]
        if body:
            lines.append(body[(len(body) - 1) // 2])
    return lines


def test_the_image_holds_no_local_ca(built_image: BuiltImage) -> None:
    lines = certificate_lines(Path("/usr/local/share/ca-certificates"))
    if not lines:
        pytest.skip("this machine has no local CA")
    probe = [f"-e{line}" for line in lines]
    bundle = "/etc/ssl/certs/ca-certificates.crt"  # what the build got as its secret
    assert subprocess.run(["grep", "-qF", *probe, bundle], check=False).returncode == 0
    container = subprocess.run(
        built_image.buildah("from", "--quiet", built_image.reference),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        root = subprocess.run(
            built_image.buildah("mount", container), capture_output=True, text=True, check=True
        ).stdout.strip()
        found = subprocess.run(
            ["grep", "-rlF", *probe, root], capture_output=True, text=True, check=False
        )
    finally:
        subprocess.run(built_image.buildah("rm", container), capture_output=True, check=False)
    assert found.returncode == 1, found.stdout
