"""KFP's driver and launcher, as far as one run of the compiled pipeline needs them.

On a cluster, KFP's driver resolves each task's inputs and provisions its outputs, and the
launcher runs the component's command in the component image with the executor input in
place of `{{$}}`. This module does the same from the compiled pipeline spec, with the
behaviour read from kubeflow/pipelines `backend/src/v2`:

- the run's root is `<pipeline root>/<pipeline name>/<run id>` (root DAG driver), an output
  artifact's URI `<run root>/<taskInfo.name>/<uuid>/<output>` (`driver.provisionOutputs`,
  `metadata.GenerateOutputURI`): the task's display name, not its key;
- output parameters go to `/tmp/kfp/outputs/<name>`, the executor output to
  `/tmp/kfp_outputs/output_metadata.json` (`component.OutputMetadataFilepath`);
- parameters the task does not set get the component's defaults (`addDefaultParams`) and
  `{{$}}` becomes that executor input, as Go's protojson writes it: lowerCamelCase field
  names, numbers without a fraction when they have none (`getPlaceholders`);
- a URI's local path in the container: gs:// -> /gcs/, minio:// -> /minio/, s3:// -> /s3/
  (`LocalPathForURI`); output metadata and parameter files are merged back as
  `mergeRuntimeArtifacts` and `collectOutputParameters` do.

The shell that runs a step (the image, the object store) is the caller's `Runner`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

OUTPUT_METADATA_FILE = "/tmp/kfp_outputs/output_metadata.json"
OUTPUT_PARAMETERS_DIR = "/tmp/kfp/outputs"
LOCAL_ROOTS = {"gs://": "/gcs/", "minio://": "/minio/", "s3://": "/s3/"}
_CONDITION = re.compile(r"^inputs\.parameter_values\['([^']+)'\] == (true|false|\d+|\"[^\"]*\")$")

Artifact = dict[str, Any]  # a RuntimeArtifact as protojson writes it


@dataclass(frozen=True)
class Run:
    """One run: where its artifacts go and the values of the driver's run placeholders."""

    pipeline_root: str
    pipeline_name: str
    run_id: str
    run_name: str

    @property
    def root(self) -> str:
        """The run's own root: `<pipeline root>/<pipeline name>/<run id>`."""
        return f"{self.pipeline_root.rstrip('/')}/{self.pipeline_name}/{self.run_id}"


@dataclass(frozen=True)
class Step:
    """One container task as the launcher starts it."""

    task: str
    display_name: str
    image: str
    executor_input: dict[str, Any]
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Finished:
    """What a step left: its executor output file (parsed) and its parameter files."""

    executor_output: dict[str, Any]
    parameter_files: dict[str, str]


@dataclass
class Outputs:
    """Every task's outputs so far, as the driver finds them for later tasks."""

    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Artifact]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


Runner = Callable[[Step], Finished]
#: A DAG's inputs as its tasks see them: parameter values and artifacts by name.
Scope = tuple[Mapping[str, Any], Mapping[str, Artifact]]
NewId = Callable[[], str]


def local_path(uri: str) -> str:
    """The path of an artifact URI inside the container (the launcher's `LocalPathForURI`)."""
    for scheme, prefix in LOCAL_ROOTS.items():
        if uri.startswith(scheme):
            return prefix + uri[len(scheme) :]
    raise ValueError(f"{uri}: no local path for this scheme")


def protojson(value: Any) -> str:
    """JSON as Go's protojson writes a Struct: integral numbers without a fraction."""

    def plain(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, dict):
            return {k: plain(v) for k, v in item.items()}
        if isinstance(item, list):
            return [plain(v) for v in item]
        return item

    return json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False)


def executor_input(
    component: Mapping[str, Any], resolved: Scope, *, run: Run, display_name: str, new_id: NewId
) -> dict[str, Any]:
    """The executor input of one task: resolved inputs, defaults added, outputs provisioned."""
    parameters, artifacts = resolved
    declared = component.get("inputDefinitions", {}).get("parameters", {})
    values = {
        name: spec["defaultValue"]
        for name, spec in declared.items()
        if "defaultValue" in spec and name not in parameters
    }
    values.update(parameters)
    inputs: dict[str, Any] = {"parameterValues": values}
    if artifacts:
        inputs["artifacts"] = {name: {"artifacts": [a]} for name, a in artifacts.items()}
    outputs_spec = component.get("outputDefinitions", {})
    outputs: dict[str, Any] = {"outputFile": OUTPUT_METADATA_FILE}
    if outputs_spec.get("artifacts"):
        outputs["artifacts"] = {
            name: {
                "artifacts": [
                    {
                        "type": spec["artifactType"],
                        "uri": f"{run.root}/{display_name}/{new_id()}/{name}",
                    }
                ]
            }
            for name, spec in outputs_spec["artifacts"].items()
        }
    if outputs_spec.get("parameters"):
        outputs["parameters"] = {
            name: {"outputFile": f"{OUTPUT_PARAMETERS_DIR}/{name}"}
            for name in outputs_spec["parameters"]
        }
    return {"inputs": inputs, "outputs": outputs}


def command_line(container: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[str, ...]:
    """The container's command and arguments with the launcher's placeholders filled in."""
    text = protojson(given)
    marks = {"{{$}}": text}
    for name, found in given["inputs"].get("artifacts", {}).items():
        uri = found["artifacts"][0]["uri"]
        marks[f"{{{{$.inputs.artifacts['{name}'].uri}}}}"] = uri
        marks[f"{{{{$.inputs.artifacts['{name}'].path}}}}"] = local_path(uri)
    for name, found in given["outputs"].get("artifacts", {}).items():
        uri = found["artifacts"][0]["uri"]
        marks[f"{{{{$.outputs.artifacts['{name}'].uri}}}}"] = uri
        marks[f"{{{{$.outputs.artifacts['{name}'].path}}}}"] = local_path(uri)
    for name, value in given["inputs"]["parameterValues"].items():
        shown = value if isinstance(value, str) else protojson(value)
        marks[f"{{{{$.inputs.parameters['{name}']}}}}"] = shown
    for name, spec in given["outputs"].get("parameters", {}).items():
        marks[f"{{{{$.outputs.parameters['{name}'].output_file}}}}"] = spec["outputFile"]
    words = [*container.get("command", []), *container.get("args", [])]
    for mark, value in marks.items():
        words = [word.replace(mark, value) for word in words]
    return tuple(words)


def collect(
    given: Mapping[str, Any], finished: Finished
) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """A step's output parameters and artifacts, merged as the launcher publishes them."""
    output = finished.executor_output
    parameters = dict(output.get("parameterValues", {}))
    for name in given["outputs"].get("parameters", {}):
        if name not in parameters:
            parameters[name] = _parse_parameter(finished.parameter_files[name])
    artifacts: dict[str, Artifact] = {}
    for name, found in given["outputs"].get("artifacts", {}).items():
        artifact = dict(found["artifacts"][0])
        produced = output.get("artifacts", {}).get(name, {}).get("artifacts", [])
        if produced:
            artifact["uri"] = produced[0].get("uri") or artifact["uri"]
            artifact["metadata"] = {
                **artifact.get("metadata", {}),
                **produced[0].get("metadata", {}),
            }
        artifacts[name] = artifact
    return parameters, artifacts


def _parse_parameter(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_pipeline(
    spec: Mapping[str, Any],
    arguments: Mapping[str, Any],
    *,
    run: Run,
    runner: Runner,
    new_id: NewId,
) -> Outputs:
    """Run the compiled pipeline's DAG, each container task through `runner`.

    Args:
        spec: The compiled pipeline (IR YAML, parsed).
        arguments: The pipeline's parameters (its defaults fill the rest).
        run: Where the run's artifacts go, its id and name.
        runner: Runs one step and returns what it left.
        new_id: A fresh id for each output's URI (the driver's uuid).

    """
    root = spec["root"]
    values = {
        name: p["defaultValue"]
        for name, p in root.get("inputDefinitions", {}).get("parameters", {}).items()
        if "defaultValue" in p
    }
    values.update(arguments)
    driver = _Driver(spec, run, runner, new_id, Outputs())
    driver.run_dag(root["dag"], (values, {}))
    return driver.outputs


@dataclass(frozen=True)
class _Driver:
    """Walks the DAGs of one run; every task's outputs go into `outputs`."""

    spec: Mapping[str, Any]
    run: Run
    runner: Runner
    new_id: NewId
    outputs: Outputs

    def run_dag(self, dag: Mapping[str, Any], scope: Scope) -> None:
        """Run a DAG's tasks in order: sub-DAGs when their condition holds, importers, steps."""
        for key in _in_order(dag["tasks"]):
            task = dag["tasks"][key]
            resolved = _resolve(task.get("inputs", {}), scope, self.run, self.outputs)
            condition = task.get("triggerPolicy", {}).get("condition")
            if condition and not _holds(condition, resolved[0]):
                continue
            component = self.spec["components"][task["componentRef"]["name"]]
            if "dag" in component:
                self.run_dag(component["dag"], resolved)
                continue
            executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
            if "importer" in executor:  # the launcher's importer mode: an artifact, no step
                self.outputs.artifacts[key] = {
                    "artifact": {
                        "type": executor["importer"]["typeSchema"],
                        "uri": resolved[0]["uri"],
                        "metadata": executor["importer"].get("metadata", {}),
                    }
                }
                continue
            self.run_step(key, task, component, executor["container"], resolved)

    def run_step(
        self,
        key: str,
        task: Mapping[str, Any],
        component: Mapping[str, Any],
        container: Mapping[str, Any],
        resolved: Scope,
    ) -> None:
        """Provision the outputs, start the step, publish what it left."""
        display = task.get("taskInfo", {}).get("name", key)
        given = executor_input(
            component, resolved, run=self.run, display_name=display, new_id=self.new_id
        )
        step = Step(key, display, container["image"], given, command_line(container, given))
        self.outputs.steps.append(step)
        finished = self.runner(step)
        self.outputs.parameters[key], self.outputs.artifacts[key] = collect(given, finished)


def _in_order(tasks: Mapping[str, Any]) -> list[str]:
    """Task keys so that each comes after the tasks it depends on (ties by name)."""
    done: list[str] = []
    while len(done) < len(tasks):
        ready = sorted(
            k
            for k, t in tasks.items()
            if k not in done and set(t.get("dependentTasks", [])) <= set(done)
        )
        if not ready:
            raise ValueError(f"cycle among {sorted(set(tasks) - set(done))}")
        done.append(ready[0])
    return done


def _resolve(
    inputs: Mapping[str, Any], scope: Scope, run: Run, outputs: Outputs
) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """A task's inputs from its parent's inputs (`scope`), constants and earlier outputs."""
    parameters, artifacts = scope
    runtime = {"{{$.pipeline_job_uuid}}": run.run_id, "{{$.pipeline_job_name}}": run.run_name}
    params: dict[str, Any] = {}
    for name, source in inputs.get("parameters", {}).items():
        if "componentInputParameter" in source:
            if source["componentInputParameter"] in parameters:
                params[name] = parameters[source["componentInputParameter"]]
        elif "taskOutputParameter" in source:
            ref = source["taskOutputParameter"]
            params[name] = outputs.parameters[ref["producerTask"]][ref["outputParameterKey"]]
        elif "runtimeValue" in source:
            constant = source["runtimeValue"]["constant"]
            params[name] = (
                runtime.get(constant, constant) if isinstance(constant, str) else constant
            )
        else:
            raise NotImplementedError(f"parameter source {source}")
    arts: dict[str, Artifact] = {}
    for name, source in inputs.get("artifacts", {}).items():
        if "componentInputArtifact" in source:
            arts[name] = artifacts[source["componentInputArtifact"]]
        elif "taskOutputArtifact" in source:
            ref = source["taskOutputArtifact"]
            arts[name] = outputs.artifacts[ref["producerTask"]][ref["outputArtifactKey"]]
        else:
            raise NotImplementedError(f"artifact source {source}")
    return params, arts


def _holds(condition: str, parameters: Mapping[str, Any]) -> bool:
    """The trigger conditions this pipeline compiles to (`dsl.If(x == literal)`)."""
    found = _CONDITION.match(condition)
    if found is None:
        raise NotImplementedError(f"condition {condition!r}")
    return bool(parameters[found.group(1)] == json.loads(found.group(2)))
