"""The Pulumi CLI's project-config rules, reimplemented to check the shipped stack files.

Under mocks the SDK never reads Pulumi.yaml, so nothing else would notice a stack the real
CLI refuses. This module follows pulumi/pulumi `sdk/go/common/workspace` (3.2xx):

- `RewriteShorthandConfigValues`: a scalar or list under a project key is its `default`,
  under another namespace (`aws:region`) its `value`;
- the project schema (`project.json`, `configTypeDeclaration`): only `type` (string,
  integer, boolean, array), `items`, `description`, `secret`, `default`, `value`;
- `Project.Validate`: not both `default` and `value`; a typed array needs `items`; a typed
  default must have the type; a key of another namespace has a `value` and no type/default;
- `mergeConfig` (`ValidateStackConfigAndApplyProjectConfig`): a project key the stack does
  not set, with neither `default` nor `value`, is missing (typed or not); otherwise its
  default/value is applied as a plaintext value;
- `validateStackConfigValue`, only for typed keys: a `secret` key must hold a secure value
  (so a plaintext default on a secret key fails too), then `ValidateConfigValue` on the
  decrypted value (JSON-decoded for objects).

The cases in tests/unit/test_pulumi_cli_config.py are the upstream tests' own.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SIMPLE_TYPES = ("string", "integer", "boolean", "array")
DECLARATION_FIELDS = frozenset({"type", "items", "description", "secret", "default", "value"})


class ProjectError(ValueError):
    """Pulumi.yaml is refused when the project is loaded."""


class StackConfigError(ValueError):
    """The stack's config is refused by `ValidateStackConfigAndApplyProjectConfig`."""


@dataclass(frozen=True)
class ConfigType:
    """One `config:` declaration of Pulumi.yaml (`ProjectConfigType`)."""

    type: str | None = None
    items: Mapping[str, Any] | None = None
    default: Any = None
    value: Any = None
    secret: bool = False

    @property
    def typed(self) -> bool:
        """`IsExplicitlyTyped`: the declaration names a type."""
        return self.type is not None


@dataclass(frozen=True)
class Project:
    """The parts of Pulumi.yaml these rules read."""

    name: str
    config: Mapping[str, ConfigType]


@dataclass(frozen=True)
class StackValue:
    """A config value: its text (JSON for objects), secure or not, object or not."""

    text: str
    secure: bool = False
    object: bool = False


Decrypter = Callable[[str], str]


def base64_decrypter(ciphertext: str) -> str:
    """The upstream tests' `Base64Crypter`: ciphertext is the base64 of the plaintext."""
    return base64.b64decode(ciphertext).decode()


def _namespaced_by(project: str, key: str) -> bool:
    return ":" not in key or key.startswith(f"{project}:")


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _type_name(type_name: str, items: Mapping[str, Any] | None) -> str:
    if items is not None:
        return f"array<{_type_name(items['type'], items.get('items'))}>"
    return type_name


def _is_integer(value: Any) -> bool:
    # YAML gives floats for whole numbers; strings count when they parse as integers.
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value == math.trunc(value)
    if isinstance(value, str):
        try:
            int(value, 10)
        except ValueError:
            return False
    return isinstance(value, int | float | str)


def validate_config_value(type_name: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """`ValidateConfigValue`: does `value` have the declared type."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return _is_integer(value)
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if not isinstance(value, list) or items is None:
        return False
    return all(validate_config_value(items["type"], items.get("items"), item) for item in value)


def _declaration(key: str, raw: Any) -> ConfigType:
    if not isinstance(raw, dict):
        raise ProjectError(f"#/config/{key}: expected a config type declaration")
    unknown = sorted(set(raw) - DECLARATION_FIELDS)
    if unknown:
        raise ProjectError(f"#/config/{key}: additionalProperties {unknown} not allowed")
    type_name = raw.get("type")
    if type_name is not None and type_name not in SIMPLE_TYPES:
        raise ProjectError(f"#/config/{key}/type: value must be one of {list(SIMPLE_TYPES)}")
    return ConfigType(
        type=type_name,
        items=raw.get("items"),
        default=raw.get("default"),
        value=raw.get("value"),
        secret=bool(raw.get("secret", False)),
    )


def load_project(document: Mapping[str, Any]) -> Project:
    """Load Pulumi.yaml as `LoadProject` does: shorthand rewrite, schema, `Validate`.

    Raises:
        ProjectError: with the CLI's message.

    """
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError("project is missing a non-empty string 'name' attribute")
    raw_config = document.get("config")
    if raw_config is None or isinstance(raw_config, str):  # a string is the old stackConfigDir
        return Project(name=name, config={})
    config: dict[str, ConfigType] = {}
    for key, raw in raw_config.items():
        declaration = raw
        if isinstance(raw, str | int | bool | list):  # RewriteShorthandConfigValues
            declaration = {"default": raw} if _namespaced_by(name, key) else {"value": raw}
        config[key] = _declaration(key, declaration)
    for key, declared in config.items():
        _validate_declaration(name, key, declared)
    return Project(name=name, config=config)


def _validate_declaration(project: str, key: str, declared: ConfigType) -> None:
    if declared.default is not None and declared.value is not None:
        raise ProjectError(
            f"project config '{key}' cannot have both a 'default' and 'value' attribute"
        )
    if _namespaced_by(project, key):
        if declared.type == "array" and declared.items is None:
            raise ProjectError(
                f"The configuration key '{key}' declares an array "
                "but does not specify the underlying type via the 'items' attribute"
            )
        if (
            declared.type is not None
            and declared.default is not None
            and not validate_config_value(declared.type, declared.items, declared.default)
        ):
            raise ProjectError(
                f"The default value specified for configuration key '{key}' is not of the "
                f"expected type '{_type_name(declared.type, declared.items)}'"
            )
        return
    if declared.typed:
        raise ProjectError(
            f"Configuration key '{key}' is not namespaced by the project "
            "and should not define a type"
        )
    if declared.default is not None:
        raise ProjectError(
            f"Configuration key '{key}' is not namespaced by the project and should not define "
            "a default value. Did you mean to use the 'value' attribute instead of 'default'?"
        )
    if declared.value is None:
        raise ProjectError(
            f"Configuration key '{key}' is namespaced and must provide an attribute 'value'"
        )


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return True
        return any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _stack_value(raw: Any) -> StackValue:
    if isinstance(raw, dict) and set(raw) == {"secure"}:
        return StackValue(text=str(raw["secure"]), secure=True)
    if isinstance(raw, dict | list):
        return StackValue(text=json.dumps(raw), secure=_has_secure(raw), object=True)
    return StackValue(text=_scalar_text(raw))


def load_stack_config(
    document: Mapping[str, Any] | None, project: Project
) -> dict[str, StackValue]:
    """A stack file's `config:` as `LoadProjectStack` reads it (bare keys: the project's)."""
    raw = (document or {}).get("config") or {}
    return {_full_key(project.name, str(key)): _stack_value(value) for key, value in raw.items()}


def _decrypted(value: StackValue, decrypt: Decrypter) -> Any:
    if not value.object:
        return decrypt(value.text) if value.secure else value.text

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                return decrypt(str(node["secure"]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(json.loads(value.text))


def _missing_error(stack: str, keys: list[str]) -> StackConfigError:
    if len(keys) == 1:
        return StackConfigError(f"Stack '{stack}' is missing configuration value '{keys[0]}'")
    quoted = [f"'{k}'" for k in sorted(keys)]
    listed = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
    return StackConfigError(f"Stack '{stack}' is missing configuration values {listed}")


def _applied(raw: Any) -> StackValue:
    """`createConfigValue`: a project default/value, always plaintext."""
    if isinstance(raw, str | int | bool):
        return StackValue(text=_scalar_text(raw))
    return StackValue(text=json.dumps(raw, separators=(",", ":")), object=True)


def validate_stack_config(
    stack: str,
    project: Project,
    stack_config: Mapping[str, StackValue],
    decrypt: Decrypter = base64_decrypter,
) -> dict[str, StackValue]:
    """`ValidateStackConfigAndApplyProjectConfig`: the merged config the program would get.

    Raises:
        StackConfigError: with the CLI's message (missing keys, then the first bad value).

    """
    merged = dict(stack_config)
    missing: list[str] = []
    for key in sorted(project.config):
        declared = project.config[key]
        full = _full_key(project.name, key)
        found = full in merged
        has_default = declared.default is not None
        has_value = declared.value is not None
        if not found and not has_value and not has_default and full.startswith(f"{project.name}:"):
            missing.append(key)
            continue
        if not found and (has_value or has_default):
            merged[full] = _applied(declared.default if has_default else declared.value)
    if missing:
        raise _missing_error(stack, missing)
    for key in sorted(project.config):
        declared = project.config[key]
        if declared.type is None:
            continue
        value = merged.get(_full_key(project.name, key), StackValue(text=""))
        if declared.secret and not value.secure:
            raise StackConfigError(
                f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
            )
        if not validate_config_value(declared.type, declared.items, _decrypted(value, decrypt)):
            raise StackConfigError(
                f"Stack '{stack}' with configuration key '{key}' must be of type "
                f"'{_type_name(declared.type, declared.items)}'"
            )
    return merged
