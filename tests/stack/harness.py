"""Run the real Pulumi program under mocks and record every registration.

`run_stack(stack_file)` loads a stack file into the runtime config, installs a
recording MockMonitor and runs `infra/__main__.py`. The Recording holds, per
resource: type, name, parent, provider, dependencies, inputs and options.
"""

from __future__ import annotations

import asyncio
import base64
import json
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import resource_pb2

from infra.cluster.kinds import DEFAULT_KIND
from infra.program_inputs import INPUT_ERRORS
from tests.conftest import KUBEFLOW_2603

REPO = Path(__file__).resolve().parents[2]
# The entry point Pulumi runs (the project root's __main__.py, which runs infra/__main__.py).
PROGRAM = REPO / "__main__.py"
SECRET_SIG = rpc._special_sig_key
SECRET_VALUE = rpc._special_secret_sig


@dataclass
class Registered:
    """One resource registration as the engine saw it."""

    type: str
    name: str
    urn: str
    parent: str
    provider: str
    dependencies: list[str]
    inputs: dict[str, Any]
    raw_inputs: dict[str, Any]
    custom: bool
    protect: bool
    retain_on_delete: bool
    additional_secret_outputs: list[str]
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)  # alias URNs or alias spec types

    def is_secret(self, *path: str) -> bool:
        """Whether the raw input at `path` was sent as a Pulumi secret."""
        node: Any = self.raw_inputs
        for part in path:
            if isinstance(node, dict) and node.get(SECRET_SIG) == SECRET_VALUE:
                return True
            node = node[part]
        return isinstance(node, dict) and node.get(SECRET_SIG) == SECRET_VALUE


@dataclass
class Recording:
    """Everything registered in one program run."""

    resources: list[Registered] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, got {len(found)}"
        return found[0]

    def by_urn(self) -> dict[str, Registered]:
        return {r.urn: r for r in self.resources}

    def types(self) -> set[str]:
        return {r.type for r in self.resources}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that records each RegisterResource request."""

    def __init__(self, mocks: pulumi.runtime.Mocks, recording: Recording) -> None:
        super().__init__(mocks)
        self.recording = recording

    def GetDeploymentInfo(self, request: Any) -> Any:
        # Without resource references the SDK sends a resource input as its URN/ID,
        # so the monitor thread never has to rebuild Resource objects.
        info = super().GetDeploymentInfo(request)
        features = [
            f
            for f in info.supportedFeatures
            if f != resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES
        ]
        return resource_pb2.DeploymentInfo(supportedFeatures=features)

    def SupportsFeature(self, request: Any) -> Any:
        if request.id == "resourceReferences":
            return type("SupportsFeatureResponse", (object,), {"hasSupport": False})
        return super().SupportsFeature(request)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = json_format.MessageToDict(request.object)
            self.recording.resources.append(
                Registered(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    inputs=_unwrap_secrets(rpc.deserialize_properties(request.object)),
                    raw_inputs=raw,
                    custom=request.custom,
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    custom_timeouts=_timeouts(request),
                    aliases=[a.spec.type if a.HasField("spec") else a.urn for a in request.aliases]
                    + list(request.aliasURNs),
                )
            )
        return response


def _timeouts(request: Any) -> dict[str, str]:
    timeouts = request.customTimeouts
    found = {"create": timeouts.create, "update": timeouts.update, "delete": timeouts.delete}
    return {k: v for k, v in found.items() if v}


# Outputs a real provider would compute and later code reads, per resource type.
def read_secret(resource_id: str) -> dict[str, Any]:
    """A Secret read from the cluster: a profile's object store keys as the profile
    controller writes them (`accesskey`, `secretkey`, base64), named after its namespace."""
    namespace = resource_id.partition("/")[0]
    return {
        "metadata": {"name": resource_id.partition("/")[2], "namespace": namespace},
        "data": {
            field: base64.b64encode(f"{namespace}-profile-{field}".encode()).decode()
            for field in ("accesskey", "secretkey")
        },
    }


def _computed_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    fixed = {
        "command:local:Command": {"stdout": FAKE_KUBECONFIG},
        "random:index/randomBytes:RandomBytes": {"base64": f"salt-of-{name}", "hex": "00" * 32},
    }.get(type_)
    if fixed is not None:
        return fixed
    if type_ == "eks:index:Cluster":
        return {
            "kubeconfigJson": FAKE_KUBECONFIG,
            "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.test",
            "oidcProviderUrl": "https://oidc.eks.test/id/ABC",
        }
    if type_ == "random:index/randomPassword:RandomPassword":
        length = int(inputs["length"])
        return {"result": f"generated-{name}-{'x' * length}"[:length]}
    if type_ == "pulumi-python:dynamic/kfstack:ModelRegistryEntry":
        return {
            "registered_model_id": "1",
            "model_version_id": "2",
            "model_artifact_id": "3",
            "model_registry_uri": f"model-registry://{inputs['model_name']}/{inputs['version_name']}",
        }
    if type_ == "gcp:container/cluster:Cluster":
        return {"endpoint": "203.0.113.10", "masterAuth": {"clusterCaCertificate": "Q0E="}}
    return {}


def _unwrap_secrets(value: Any) -> Any:
    """Inputs with secrets replaced by their values (`Registered.is_secret` tells which)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _holds_resource(value: Any) -> bool:
    if isinstance(value, pulumi.Resource):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_resource(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_resource(v) for v in value.values())
    return False


class StackMocks(pulumi.runtime.Mocks):
    """Mocks that echo inputs, add computed outputs and answer the invokes we use."""

    def __init__(self, invokes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]]):
        self.invokes = dict(invokes)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        # Echo inputs minus resource references (a real provider returns its own state).
        echoed = {k: v for k, v in args.inputs.items() if not _holds_resource(v)}
        if args.resource_id and args.typ == "kubernetes:core/v1:Secret":  # a read (`.get`)
            return args.resource_id, read_secret(args.resource_id)
        outputs = {**echoed, **_computed_outputs(args.typ, args.name, args.inputs)}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        handler = self.invokes.get(args.token)
        if handler is None:
            raise AssertionError(f"unexpected invoke {args.token}")
        return handler(args.args), None


FAKE_KUBECONFIG = yaml.safe_dump(
    {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
        "users": [{"name": "u", "user": {"token": "t"}}],
    }
)


def stack_file_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """A stack file as the engine passes config to the program: strings, JSON objects."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = "test-secret-value"
            secret_keys.append(key)
        elif isinstance(value, dict | list):
            config[key] = json.dumps(value)
        elif isinstance(value, bool):
            config[key] = "true" if value else "false"
        else:
            config[key] = str(value)
    return config, secret_keys


def run_program(
    stack: str,
    config: Mapping[str, str],
    *,
    secret_keys: list[str] | None = None,
    preview: bool = False,
    invokes: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
    recording: Recording | None = None,
    unwrap_input_errors: bool = True,
) -> Recording:
    """Run infra/__main__.py under mocks with `config`; return what it registered.

    Pass `recording` to inspect what was registered when the program raises. Bad input
    raises its own error (ConfigError, PlanError, ...) unless `unwrap_input_errors` is
    False, when it raises the `pulumi.RunError` the CLI would show.
    """
    recording = recording if recording is not None else Recording()
    mocks = StackMocks(invokes or {})
    # Each run is a fresh deployment: a new root stack and a new event loop.
    pulumi_settings.ROOT.set(None)
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_all_config(dict(config), secret_keys or [])
    pulumi.runtime.set_mocks(
        mocks,
        project="kfstack",
        stack=stack,
        preview=preview,
        monitor=RecordingMonitor(mocks, recording),
    )

    @pulumi.runtime.test
    def program() -> None:
        runpy.run_path(str(PROGRAM), run_name="__main__")

    try:
        program()
    except pulumi.RunError as ended:
        # Bad input ends the program with a RunError (one line for the CLI) caused by the
        # error itself: tests assert that error; tests/stack/test_input_errors.py the end.
        if unwrap_input_errors and isinstance(ended.__cause__, INPUT_ERRORS):
            raise ended.__cause__ from None
        raise
    return recording


def run_stack_file(
    path: Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    recording: Recording | None = None,
) -> Recording:
    """Run the program for a stack file, with config overrides (objects merged shallowly).

    A cluster of another kind replaces the file's: its fields are another kind's.
    """
    config, secret_keys = stack_file_config(path)
    # Tests never touch the network: the release comes from ../shared, not from git.
    kubeflow = json.loads(config.get("kfstack:kubeflow", "{}"))
    kubeflow["source"] = {"path": str(KUBEFLOW_2603)}
    config["kfstack:kubeflow"] = json.dumps(kubeflow)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and key in config:
            current = json.loads(config[key])
            kinds = (None, current.get("kind", DEFAULT_KIND))
            same_kind = key != "kfstack:cluster" or value.get("kind") in kinds
            config[key] = json.dumps({**current, **value} if same_kind else value)
        else:
            config[key] = json.dumps(value) if isinstance(value, dict | list) else str(value)
    for key, value in (secrets or {}).items():
        config[key] = value
        secret_keys.append(key)
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    return run_program(stack, config, secret_keys=secret_keys, recording=recording)
