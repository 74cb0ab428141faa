"""The pipeline's train step with workers, run as KFP would run it, against the engine's cluster.

`TrainStep` prepares one run of the compiled pipeline's `train` task (the golden spec, so the
contract KFP compiles), as KFP's driver and launcher would (`tests/image/launcher.py`): the
run root from the profile's `kfp-launcher` ConfigMap as the API server holds it, the
upstream dataset artifact written where the launcher downloads it (`/minio/...`, a host
folder), the step's Pod object in the profile namespace (the step reads its own image from
it), and a real token of the profile's `default-editor` account (the runner's). `run` starts
the step's command line in a pod of `tests.engine.pods` and waits for it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ml.data import DatasetSpec, build_dataset
from tests.engine.harness import ControlPlane
from tests.engine.pods import Pod, account_folder, start_pod
from tests.image.launcher import Run, command_line, executor_input, local_path
from tests.ml.conftest import HEADER, classification_rows, write_rows

GOLDEN = Path(__file__).parents[1] / "ml" / "pipelines" / "golden" / "training_pipeline.yaml"
IMAGE = "ghcr.io/kfstack/ml@sha256:" + "5e" * 32
RUNNER = "default-editor"
#: The in-cluster names the step and the workers use, as the pods resolve them.
HOSTS = {"seaweedfs.kubeflow": "127.0.0.1", "minio-service.kubeflow": "127.0.0.1"}
SPEC = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))
DATASET_TYPE = {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}


@dataclass(frozen=True)
class StepRun:
    """What one run of the step left: its exit status, log, outputs and artifact URIs."""

    returncode: int
    log: str
    executor_output: dict[str, Any]
    dataset_uri: str
    model_uri: str
    model_path: Path  # on the host


class TrainStep:
    """The train task of the golden pipeline, run in a profile namespace of the plane."""

    def __init__(
        self, plane: ControlPlane, env: dict[str, str], namespace: str, scratch: Path
    ) -> None:
        self.plane, self.env, self.namespace, self.scratch = plane, env, namespace, scratch
        self.volume = scratch / "minio"  # the launcher's /minio
        self.volume.mkdir(parents=True, exist_ok=True)
        spec = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
        self.component = spec["components"]["comp-train"]
        self.container = spec["deploymentSpec"]["executors"]["exec-train"]["container"]
        self.pipeline_name = spec["pipelineInfo"]["name"]
        self.display_name = spec["root"]["dag"]["tasks"]["train"]["taskInfo"]["name"]

    def pipeline_root(self) -> str:
        """The profile's pipeline root, from its kfp-launcher ConfigMap in the API server."""
        found = self.plane.kubectl_json(
            "get", "configmap", "kfp-launcher", "-n", self.namespace, env=self.env
        )
        return str(found["data"]["defaultPipelineRoot"])

    def run(self, parameters: dict[str, Any], *, rows: int = 600) -> StepRun:
        """Run the step once with `parameters` on a fresh dataset of `rows` rows."""
        run = Run(self.pipeline_root(), self.pipeline_name, uuid.uuid4().hex[:12], "engine")
        dataset_uri = f"{run.root}/ingest-validate/{uuid.uuid4().hex[:8]}/dataset"
        csv = write_rows(self.scratch / f"{run.run_id}.csv", HEADER, classification_rows(rows))
        build_dataset(csv, SPEC, self._host(dataset_uri))
        artifact = {"type": DATASET_TYPE, "uri": dataset_uri, "metadata": {}}
        given = executor_input(
            self.component,
            (parameters, {"dataset": artifact}),
            run=run,
            display_name=self.display_name,
            new_id=lambda: uuid.uuid4().hex[:8],
        )
        output_file = self.scratch / f"{run.run_id}-executor-output.json"
        given["outputs"]["outputFile"] = str(output_file)  # beside the run, not the host's /tmp
        model_uri = given["outputs"]["artifacts"]["model"]["artifacts"][0]["uri"]
        pod_name = f"engine-{run.run_id}-train"
        self._pod_object(pod_name)
        pod = Pod(
            pod_name,
            self.namespace,
            account=account_folder(self.plane, self.env, self.namespace, RUNNER),
            hosts=HOSTS,
            volumes={self.volume: "/minio"},
        )
        log = self.scratch / f"{pod_name}.log"
        argv = command_line(self.container, given)
        returncode = start_pod(self.plane, pod, argv, scratch=self.scratch, log=log).wait(
            timeout=1200
        )
        output = json.loads(output_file.read_text()) if output_file.exists() else {}
        return StepRun(
            returncode,
            log.read_text(encoding="utf-8", errors="replace"),
            output,
            dataset_uri,
            model_uri,
            self._host(model_uri),
        )

    def _host(self, uri: str) -> Path:
        return self.volume / local_path(uri).removeprefix("/minio/")

    def _pod_object(self, name: str) -> None:
        """The step's Pod as KFP creates it: the runner's account, the image in `main`."""
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "annotations": {"sidecar.istio.io/inject": "false"},
            },
            "spec": {
                "serviceAccountName": RUNNER,
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": IMAGE}],
            },
        }
        result = self.plane.exec(
            ["kubectl", "create", "-f", "-"], env=self.env, input=json.dumps(pod)
        )
        if result.returncode != 0:
            raise RuntimeError(f"step pod {name}: {result.stderr}")
