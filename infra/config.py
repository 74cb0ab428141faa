"""The one place that reads stack config: pulumi.Config or a stack file -> StackConfig.

Every problem is collected and reported at once, each with its key path and what is
allowed, before any resource is registered. Secrets stay `pulumi.Output` secrets.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.cluster.base import ClusterContext
from infra.cluster.kinds import secret_fields
from infra.config_model import OPTIONAL_SECRET_KEYS, SECRET_KEYS, KubeflowConfig, StackSettings
from infra.kubeflow import KubeflowSettings, ManifestSource, UserProfile
from infra.safe_yaml import UnsafeDocumentError, check_depth, load_json, load_one

PROJECT = "kfstack"
OBJECT_KEYS = ("cluster", "kubeflow", "serving", "training")
ALL_SECRET_KEYS = frozenset(SECRET_KEYS) | frozenset(OPTIONAL_SECRET_KEYS)
KNOWN_KEYS = (*OBJECT_KEYS, *SECRET_KEYS, *OPTIONAL_SECRET_KEYS)
# Fields inside object keys that may be secrets (`pulumi config set --secret --path`): those
# a cluster kind's model marks secret.
NESTED_SECRETS = frozenset(("cluster", field) for field in secret_fields())
# What an encrypted nested value reads as without the passphrase (`kfstack plan`).
SECRET_MARKER = "[secret]"


class ConfigError(ValueError):
    """Stack config is invalid; `problems` holds one line per problem, with its key path."""

    def __init__(self, stack: str, problems: Iterable[str]) -> None:
        self.stack = stack
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"stack config {stack!r} has {count} {noun}:\n{lines}")


@dataclass(frozen=True)
class StackConfig:
    """Validated stack config: the typed settings plus the provided secrets as Outputs."""

    settings: StackSettings
    project_dir: Path
    secrets: Mapping[str, Any]  # key -> pulumi.Output[str] (secret)

    @property
    def stack(self) -> str:
        """The stack name."""
        return self.settings.stack

    def cluster_context(self) -> ClusterContext:
        """What the cluster's kind reads of the stack besides its own config."""
        return ClusterContext(
            name=self.settings.cluster_name,
            project_dir=self.project_dir,
            protect_data=self.settings.kubeflow.protect_data,
        )


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return f"{PROJECT}:{path}"


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if p not in ("function-after",))
        message = str(item["msg"]).removeprefix("Value error, ")
        got = item.get("input")
        shown = ""
        if item["type"] not in ("missing", "value_error") and not isinstance(got, dict | list):
            shown = f" (got {got!r})"
        for line in message.split("; "):
            problems.append(f"{_loc_to_path(loc)}: {line}{shown}")
    return problems


def _decode(key: str, value: Any) -> Any:
    """Config values reach the program as strings; object keys carry JSON."""
    if key in OBJECT_KEYS and isinstance(value, str):
        try:
            return load_json(value, source=f"{PROJECT}:{key}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"{PROJECT}:{key}: not a valid object ({exc.msg})") from exc
    if key in OBJECT_KEYS:
        check_depth(value, source=f"{PROJECT}:{key}")
    return value


def parse_settings(
    raw: Mapping[str, Any], *, stack: str, require_secrets: bool = True
) -> StackSettings:
    """Validate raw config (full keys like 'kfstack:cluster') into StackSettings.

    Keys of other namespaces (aws:, gcp:, kubernetes:) are left to their providers.
    With `require_secrets`, secrets the stack does not generate must be set
    (`pulumi up`); `kfstack plan` needs no secret value and passes False.

    Raises:
        ConfigError: listing every problem found.

    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    provided_secrets: set[str] = set()
    for full_key, value in sorted(raw.items()):
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT:
            continue
        if key not in KNOWN_KEYS:
            problems.append(f"{full_key}: unknown key; allowed: {', '.join(KNOWN_KEYS)}")
        elif key in ALL_SECRET_KEYS:
            provided_secrets.add(key)
        else:
            try:
                values[key] = _decode(key, value)
            except ValueError as exc:
                problems.append(str(exc))
    values["stack"] = stack
    values["provided_secrets"] = frozenset(provided_secrets)
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc))
        raise ConfigError(stack, problems) from None
    if require_secrets:
        problems.extend(
            f"{PROJECT}:{key}: required secret ({SECRET_KEYS[key]}) because "
            f"{PROJECT}:kubeflow.generateSecrets is false; set it with "
            f"`pulumi config set --secret {PROJECT}:{key} ...`"
            for key in settings.missing_secrets()
        )
    if problems:
        raise ConfigError(stack, problems)
    return settings


def read_stack_file(path: Path) -> dict[str, Any]:
    """Read `stacks/Pulumi.<env>.yaml` into raw config; secure values become markers.

    Raises:
        ConfigError: the file is missing or is not a Pulumi stack file.

    """
    stack = stack_name_of(path)
    if not path.is_file():
        raise ConfigError(stack, [f"{path}: stack file not found"])
    try:
        document = load_one(path.read_bytes(), source=str(path)) or {}
    except UnsafeDocumentError as exc:
        raise ConfigError(stack, [str(exc)]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ConfigError(stack, [f"{path}: 'config' must be a mapping"])
    raw, problems = _stack_file_secrets({str(k): v for k, v in config.items()})
    if problems:
        raise ConfigError(stack, [f"{path}: {p}" for p in problems])
    return raw


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def _stack_file_secrets(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check a stack file's secrets: every secret key encrypted, nested ones only where allowed.

    The Pulumi CLI refuses a `secret: true` key set in plain text; `kfstack plan` must
    too. An encrypted value inside an object key (a kubeconfig) becomes `SECRET_MARKER`
    where it is a secret, and is a problem anywhere else.
    """
    problems: list[str] = []
    out: dict[str, Any] = {}
    for full_key, value in config.items():
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT and key in ALL_SECRET_KEYS and not _is_secure(value):
            problems.append(
                f"{full_key}: a secret must be encrypted in the stack file; set it with "
                f"`pulumi config set --secret {full_key} ...`"
            )
        nested = namespace == PROJECT and key in OBJECT_KEYS
        out[full_key] = _nested_secrets(value, (key,), problems) if nested else value
    return out, problems


def _nested_secrets(node: Any, path: tuple[str, ...], problems: list[str]) -> Any:
    if _is_secure(node):
        if path in NESTED_SECRETS:
            return SECRET_MARKER
        allowed = ", ".join(".".join(p) for p in sorted(NESTED_SECRETS))
        problems.append(
            f"{PROJECT}:{'.'.join(path)}: cannot be a secret; secrets nest at: {allowed}"
        )
        return node
    if isinstance(node, dict):
        return {k: _nested_secrets(v, (*path, str(k)), problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_nested_secrets(v, (*path, str(i)), problems) for i, v in enumerate(node)]
    return node


def stack_name_of(path: Path) -> str:
    """`stacks/Pulumi.dev.yaml` -> 'dev'."""
    name = path.name
    for suffix in (".yaml", ".yml"):
        name = name.removesuffix(suffix)
    return name.removeprefix("Pulumi.")


def kubeflow_settings(settings: StackSettings, *, base: Path) -> KubeflowSettings:
    """The pure core's view of the stack: what to install and how."""
    kf = settings.kubeflow
    source_path = settings.source_path(base)
    git = kf.source.git
    source = ManifestSource(
        path=source_path,
        git_url=git.url if git else None,
        git_ref=git.ref if git else None,
    )
    cluster = settings.cluster
    # The fields of kfstack:kubeflow the core takes as they are (same name, same value).
    same = {name: getattr(kf, name) for name in _SAME_FIELDS}
    training = settings.training_component
    if training is not None and training not in kf.components:
        same["components"] = (*kf.components, training)  # added to a preset, like the user's
    return KubeflowSettings(
        **same,
        training_workers=settings.training.max_workers,
        source=source,
        users=tuple(UserProfile(u.email, u.resolved_profile()) for u in kf.users),
        cluster_kind=cluster.overlay_kind,
        gateway_node_port=cluster.GATEWAY_NODE_PORT,
        kubernetes_version=cluster.kubernetes_version,
    )


_SAME_FIELDS = sorted(
    {f.name for f in dataclasses.fields(KubeflowSettings)}
    & set(KubeflowConfig.model_fields) - {"source", "users"}
)


def settings_from_stack_file(path: Path) -> StackSettings:
    """Validate a stack file without Pulumi (for `kfstack plan` and CI)."""
    return parse_settings(read_stack_file(path), stack=stack_name_of(path), require_secrets=False)


def kubeflow_settings_from_stack_file(path: Path) -> KubeflowSettings:
    """The KubeflowSettings of a stack file; relative paths resolve against the project."""
    settings = settings_from_stack_file(path)
    return kubeflow_settings(settings, base=project_dir_of(path.resolve().parent))


def project_dir_of(start: Path) -> Path:
    """The nearest directory holding Pulumi.yaml, from `start` upwards (else `start`)."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return start


def _engine_config() -> dict[str, Any]:
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def load_stack_config() -> StackConfig:
    """Read and validate this stack's config under the Pulumi engine (or its mocks).

    Raises:
        ConfigError: listing every problem, before any resource is registered.

    """
    import pulumi

    settings = parse_settings(_engine_config(), stack=pulumi.get_stack())
    _require_encrypted(settings)
    project_dir = project_dir_of(Path.cwd())
    _check_files(settings, base=project_dir)
    config = pulumi.Config(PROJECT)
    secrets = {key: config.require_secret(key) for key in sorted(settings.provided_secrets)}
    return StackConfig(settings=settings, project_dir=project_dir, secrets=secrets)


def _require_encrypted(settings: StackSettings) -> None:
    """Every secret key the engine passed must have been set as a secret (encrypted).

    Pulumi.yaml does not declare the secret keys (the CLI would then demand them of every
    stack), so the CLI lets `kfstack:dexPassword: hunter2` through in plain text: refuse it.
    """
    from pulumi.runtime import config as runtime_config

    # The engine sends `null` when the stack has no secret keys (a nil Go slice).
    declared = set(runtime_config.get_config_secret_keys_env() or ())
    plain = [
        key
        for key in sorted(settings.provided_secrets)
        if not runtime_config.is_config_secret(f"{PROJECT}:{key}")
        and f"{PROJECT}:{key}" not in declared
    ]
    if plain:
        raise ConfigError(
            settings.stack,
            [
                f"{PROJECT}:{key}: a secret must be encrypted in the stack file; set it with "
                f"`pulumi config set --secret {PROJECT}:{key} ...`"
                for key in plain
            ],
        )


def _check_files(settings: StackSettings, *, base: Path) -> None:
    """Files the config names must exist and parse before anything is registered."""
    problems = settings.cluster.file_problems(base)
    source = settings.source_path(base)
    if source is not None and not source.is_dir():
        problems.append(f"{PROJECT}:kubeflow.source.path: directory not found: {source}")
    if problems:
        raise ConfigError(settings.stack, problems)
