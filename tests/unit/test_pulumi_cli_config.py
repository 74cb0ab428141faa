"""Every shipped stack file passes the Pulumi CLI's project-config validation.

The rules (tests/pulumi_cli_config.py) are pinned first by the cases of pulumi/pulumi's
own `sdk/go/common/workspace/project_test.go`, then applied to Pulumi.yaml and stacks/.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Literal, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from infra.cluster.base import ClusterBase
from infra.config import KNOWN_KEYS, OBJECT_KEYS, SECRET_KEYS, parse_settings
from infra.config_model import KubeflowConfig, ServingConfig, StackSettings, TrainingConfig
from tests.pulumi_cli_config import (
    ProjectError,
    StackConfigError,
    load_project,
    load_stack_config,
    validate_stack_config,
)

REPO = Path(__file__).resolve().parents[2]
STACK_FILES = sorted((REPO / "stacks").glob("Pulumi.*.yaml"))


def _check(project_yaml: str, stack_yaml: str) -> dict[str, str]:
    project = load_project(yaml.safe_load(project_yaml))
    stack = load_stack_config(yaml.safe_load(stack_yaml), project)
    merged = validate_stack_config("dev", project, stack)
    return {key: value.text for key, value in merged.items()}


# --- the upstream cases ------------------------------------------------------------------


def test_stack_config_is_inherited_from_project_config() -> None:
    merged = _check(
        "name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n"
        "  instanceCount: 20\n  protect: true",
        "config:\n  test:instanceSize: t4.large",
    )
    assert merged == {
        "test:instanceSize": "t4.large",
        "test:instanceCount": "20",
        "test:protect": "true",
    }


def test_namespaced_values_are_inherited_and_bare_stack_keys_get_the_project() -> None:
    merged = _check(
        "name: test\nruntime: dotnet\nconfig:\n  aws:region: us-west-1\n"
        '  pulumi:disable-default-providers: ["*"]\n  instanceSize: t3.micro',
        "config:\n  instanceSize: t4.large",
    )
    assert merged["test:instanceSize"] == "t4.large"
    assert merged["aws:region"] == "us-west-1"
    assert json.loads(merged["pulumi:disable-default-providers"]) == ["*"]


def test_untyped_values_are_not_validated_and_undeclared_keys_are_allowed() -> None:
    merged = _check(
        "name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n  aws:region: us-west-1",
        "config:\n  instanceSize: 9999\n  aws:region: 42\n  other: 1",
    )
    assert merged["test:instanceSize"] == "9999"
    assert merged["aws:region"] == "42"


def test_untyped_object_value_passes_down_as_json() -> None:
    merged = _check(
        "name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    value:\n      hello: world",
        "config:\n  aws:whatever: 42",
    )
    assert merged["test:instanceSize"] == '{"hello":"world"}'


@pytest.mark.parametrize(
    ("project_config", "message"),
    [
        (
            "  aws:region:\n    type: string\n    value:\n      region: us-west-1",
            "Configuration key 'aws:region' is not namespaced by the project "
            "and should not define a type",
        ),
        (
            "  instanceSize:\n    type: string\n    default: t3.micro\n    value: t4.large",
            "project config 'instanceSize' cannot have both a 'default' and 'value' attribute",
        ),
        (
            "  instanceSize:\n    type: array\n    default: [t3.micro, t4.large]",
            "The configuration key 'instanceSize' declares an array but does not specify",
        ),
        (
            "  aws:region:\n    default: us-west-1",
            "Did you mean to use the 'value' attribute instead of 'default'?",
        ),
        (
            "  instanceSize:\n    type: integer\n    default: hello",
            "The default value specified for configuration key 'instanceSize' is not of the "
            "expected type 'integer'",
        ),
        ("  bag:\n    type: object", "#/config/bag/type: value must be one of"),
    ],
)
def test_project_declarations_the_cli_refuses(project_config: str, message: str) -> None:
    with pytest.raises(ProjectError, match=message.replace("?", r"\?")):
        load_project(yaml.safe_load(f"name: test\nruntime: dotnet\nconfig:\n{project_config}"))


@pytest.mark.parametrize(
    ("project_config", "message"),
    [
        (
            "  values:\n    type: array\n    items:\n      type: string",
            "Stack 'dev' is missing configuration value 'values'",
        ),
        (
            "  another:\n    type: string\n"
            "  values:\n    type: array\n    items:\n      type: string",
            "Stack 'dev' is missing configuration values 'another' and 'values'",
        ),
        (
            "  hello:\n    type: integer\n  values:\n    type: array\n    items:\n"
            "      type: string\n  world:\n    type: string",
            "Stack 'dev' is missing configuration values 'hello', 'values' and 'world'",
        ),
        # mergeConfig does not look at the type: a described, untyped key is required too.
        ("  serving:\n    description: ml outputs", "missing configuration value 'serving'"),
    ],
)
def test_declared_keys_without_default_are_required(project_config: str, message: str) -> None:
    with pytest.raises(StackConfigError, match=message):
        _check(f"name: test\nruntime: dotnet\nconfig:\n{project_config}", "")


def test_stack_values_are_type_checked() -> None:
    project = "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n"
    assert _check(project, "config:\n  test:importantNumber: 20\n")
    with pytest.raises(StackConfigError, match="'importantNumber' must be of type 'integer'"):
        _check(project, "config:\n  test:importantNumber: hello\n")
    arrays = "name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n"
    arrays += "    items:\n      type: string\n    default: [value]"
    with pytest.raises(StackConfigError, match="'values' must be of type 'array<string>'"):
        _check(arrays, "config:\n  test:values: someValue\n")


def test_secret_keys_must_be_encrypted_and_cannot_default_in_plaintext() -> None:
    project = "name: test\nruntime: dotnet\nconfig:\n"
    project += "  importantNumber:\n    type: integer\n    secret: true\n"
    secure = base64.b64encode(b"20").decode()
    assert _check(project, f"config:\n  test:importantNumber:\n    secure: {secure}\n")
    with pytest.raises(
        StackConfigError, match="'importantNumber' must be encrypted as it's secret"
    ):
        _check(project, "config:\n  test:importantNumber: 20\n")
    # A plaintext default is applied as a plaintext value, so the same check refuses it.
    with pytest.raises(StackConfigError, match="must be encrypted as it's secret"):
        _check(project + "    default: 1\n", "")


def test_no_project_config_accepts_any_stack_config() -> None:
    assert _check("name: test\nruntime: dotnet", "config:\n  hello: 21\n  world: 42")


# --- this project --------------------------------------------------------------------------


def _project() -> object:
    return load_project(yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8")))


def test_the_shipped_stack_files_are_the_three_environments() -> None:
    assert [p.name for p in STACK_FILES] == [
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
    ]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_each_stack_file_as_shipped_passes_the_cli(path: Path) -> None:
    project = load_project(yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8")))
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    config = load_stack_config(document, project)
    assert not any(value.secure for value in config.values()), "no secret is shipped"
    merged = validate_stack_config(stack, project, config)
    # Every key is one the program knows, and the merged config (defaults applied as the
    # CLI applies them) passes the program's own validation; prod's secrets are set later.
    unknown = [
        k for k in merged if k.startswith("kfstack:") and k.split(":", 1)[1] not in KNOWN_KEYS
    ]
    assert unknown == []
    parse_settings({k: v.text for k, v in merged.items()}, stack=stack, require_secrets=False)


def test_secret_keys_stay_out_of_the_cli_schema() -> None:
    """A declared secret key would be required of every stack (none may have a default)."""
    project = load_project(yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8")))
    assert set(project.config) == {"cluster", "kubeflow", "serving", "training"}
    assert not set(project.config) & set(SECRET_KEYS)
    for declared in project.config.values():
        assert declared.default == {} and declared.type is None


def test_a_stack_that_sets_only_a_secret_still_passes() -> None:
    project = load_project(yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8")))
    secure = base64.b64encode(b"pw").decode()
    config = load_stack_config({"config": {"kfstack:dexPassword": {"secure": secure}}}, project)
    merged = validate_stack_config("t", project, config)
    settings = parse_settings({k: v.text for k, v in merged.items()}, stack="t")
    assert settings.serving is None
    assert settings.provided_secrets == frozenset({"dexPassword"})


# --- Pulumi.yaml against the config model --------------------------------------------------

# What each object key of Pulumi.yaml describes: the model of its fields.
DESCRIBED: dict[str, type[BaseModel]] = {
    "cluster": ClusterBase,
    "kubeflow": KubeflowConfig,
    "serving": ServingConfig,
    "training": TrainingConfig,
}


def _choices(annotation: object) -> set[str]:
    """The values a Literal field allows (also inside `X | None`)."""
    if get_origin(annotation) is Literal:
        return {str(a) for a in get_args(annotation)}
    return {c for arg in get_args(annotation) for c in _choices(arg)}


def test_the_cli_schema_declares_the_models_object_keys() -> None:
    """Keys, types and secret flags: the object keys of StackSettings, untyped, not secret."""
    project = load_project(yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8")))
    objects = {
        name
        for name, info in StackSettings.model_fields.items()
        if name in OBJECT_KEYS and info.annotation is not None
    }
    assert set(project.config) == objects == set(OBJECT_KEYS) == set(DESCRIBED)
    for declared in project.config.values():
        # `type: object` is not a CLI type, and a typed or secret key would be required.
        assert (declared.type, declared.secret, declared.default) == (None, False, {})


def _description_problems(key: str, description: str) -> list[str]:
    """Fields of the model the description does not name, and choices it lists wrong."""
    text = " ".join(description.split())
    words = set(re.findall(r"[A-Za-z][\w-]*", text))
    problems = []
    for name, info in DESCRIBED[key].model_fields.items():
        camel = to_camel(name)
        if camel not in words:
            problems.append(f"{key}.{camel}: not described")
        choices = _choices(info.annotation)
        listed = re.search(rf"\b{camel} \(([\w-]+(?: \| [\w-]+)+)\)", text)
        if choices and listed and set(listed.group(1).split(" | ")) != choices:
            problems.append(f"{key}.{camel}: lists {listed.group(1)}, allowed {sorted(choices)}")
    return problems


@pytest.mark.parametrize("key", sorted(DESCRIBED))
def test_each_description_names_the_models_fields_and_choices(key: str) -> None:
    document = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert _description_problems(key, document["config"][key]["description"]) == []


def test_a_drifted_description_fails() -> None:
    """The serving description as it was (no servingRelease), a preset the model lacks."""
    serving = (
        "The ml outputs to register and serve: pipelinePackage, releaseRecord, namespace, "
        "storage (uri | model-registry), runtimeVersion, minReplicas, maxReplicas, "
        "canaryTrafficPercent, cpu, memory, serviceAccount, readyTimeout."
    )
    assert _description_problems("serving", serving) == ["serving.servingRelease: not described"]
    document = yaml.safe_load((REPO / "Pulumi.yaml").read_text(encoding="utf-8"))
    kubeflow = document["config"]["kubeflow"]["description"].replace(
        "(full | ml-core)", "(full | ml-core | minimal)"
    )
    (problem,) = _description_problems("kubeflow", kubeflow)
    assert problem.startswith("kubeflow.preset: lists full | ml-core | minimal")
