"""Where an object keeps pods and containers, whatever its kind and however it spells them.

The pod security rules must see every way an object can ask for a pod, not one shape:

- a pod spec: a mapping with a ``containers``, ``initContainers`` or ``ephemeralContainers``
  list (Pods, workload templates, ServingRuntimes, Notebooks, Knative Services ...);
- pod-level fields without a container list: a mapping with ``hostNetwork``, ``hostPID``,
  ``hostIPC`` or a ``volumes`` list (a training job's pod overrides, a workflow's volumes);
- a single container: a mapping with an ``image`` string or a ``securityContext`` mapping
  (a workflow template's ``container``/``script``, a predictor's ``model``, a Spark
  driver, a ClusterStorageContainer, a pipeline task's ``steps``);
- any of those held in a string: a ``podSpecPatch``, a trial template in a ConfigMap;
  a string that parses as YAML or JSON into a mapping or list is searched as well;
- the pod and container fields that the plan's own CRD schemas declare (``crd_pod_fields``):
  a field typed as a PodSpec or a Container is checked even when it is nearly empty.

Values are read as a Go controller or a lenient one would read them: ``"true"`` is true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from infra import safe_yaml
from infra.kubeflow.crds import CrdInfo

__all__ = [
    "CONTAINER_LISTS",
    "DeclaredFields",
    "PodPart",
    "as_mapping",
    "crd_pod_fields",
    "declared_fields",
    "is_false",
    "is_true",
    "pod_parts",
]

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_HOST_FIELDS = ("hostNetwork", "hostPID", "hostIPC")
# Words a string holding a pod spec or a container must contain to be worth parsing.
_POD_WORDS = ("containers", "image", "securityContext", "hostNetwork", "hostPID", "hostIPC",
              "volumes", "privileged", "hostPath")  # fmt: skip
_MAX_STRING = 1024 * 1024
_MAX_STRING_DEPTH = 3
_STRING_LIMITS = safe_yaml.Limits(max_bytes=_MAX_STRING)
_TRUE_WORDS = frozenset({"true", "yes", "on", "y", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "n", "0"})

Role = Literal["pod", "container"]


def is_true(value: object) -> bool:
    """Return whether `value` means true: `True`, `1` or a word like "true"/"yes"/"on"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


def as_mapping(value: object) -> Mapping[str, Any]:
    """Return `value` if it is a mapping, else an empty one (fields of unvalidated objects)."""
    return value if isinstance(value, Mapping) else {}


def is_false(value: object) -> bool:
    """Return whether `value` means false: `False`, `0` or a word like "false"/"no"/"off"."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in _FALSE_WORDS


@dataclass(frozen=True)
class PodPart:
    """A pod spec, pod-level fields or one container found inside an object.

    Attributes:
        path: where it sits (`spec.template.spec`, `data.template.yaml (parsed)[0].spec`).
        role: "pod" (pod-level fields, and its container lists) or "container".
        node: the mapping itself.
    """

    path: str
    role: Role
    node: Mapping[str, Any]


def _has_container_list(node: Mapping[str, Any]) -> bool:
    for field in CONTAINER_LISTS:
        value = node.get(field)
        if isinstance(value, list) and any(isinstance(c, Mapping) for c in value):
            return True
    return False


def _is_pod_level(node: Mapping[str, Any]) -> bool:
    if _has_container_list(node) or any(field in node for field in _HOST_FIELDS):
        return True
    volumes = node.get("volumes")
    return isinstance(volumes, list) and any(isinstance(v, Mapping) for v in volumes)


def _is_container(node: Mapping[str, Any]) -> bool:
    return isinstance(node.get("image"), str) or isinstance(node.get("securityContext"), Mapping)


def _parsed(text: str, path: str) -> list[Any]:
    """Return the documents a string holds when it looks like a pod spec, else [].

    Read through `infra.safe_yaml` like every other input: a string is someone else's YAML,
    and an alias bomb in a ConfigMap must not stall the plan.
    """
    if len(text) > _MAX_STRING or not any(word in text for word in _POD_WORDS):
        return []
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return [safe_yaml.load_json(stripped, source=path, limits=_STRING_LIMITS)]
        except ValueError:  # not JSON (or over a limit): perhaps YAML
            pass
    if "\n" not in text and ": " not in text:
        return []
    try:
        documents = safe_yaml.load_all(text, source=path, limits=_STRING_LIMITS)
    except safe_yaml.UnsafeDocumentError:
        return []
    return [d for d in documents if isinstance(d, Mapping | list)]


class DeclaredFields:
    """The PodSpec and Container fields a CRD declares, matched against object paths."""

    def __init__(self, fields: Mapping[str, Role]) -> None:
        self.fields = dict(fields)
        self._patterns = [
            (re.compile(re.escape(p).replace(r"\*", r"[^.\[]+") + r"\Z"), role)
            for p, role in self.fields.items()
        ]

    def role(self, path: str) -> Role | None:
        """Return the role the schema gives the field at `path` (list indexes ignored)."""
        plain = _schema_path(path)
        for pattern, role in self._patterns:
            if pattern.match(plain):
                return role
        return None


def pod_parts(
    node: Any,
    path: str = "",
    *,
    declared: DeclaredFields | None = None,
    _depth: int = 0,
    _listed: bool = False,
) -> Iterator[PodPart]:
    """Yield every pod spec, pod-level mapping and container anywhere in `node`.

    Args:
        node: an object (or any part of one).
        path: the path of `node` in its object, for messages.
        declared: the fields the object's CRD declares as a PodSpec or a Container; such a
            mapping is yielded whatever it holds.
    """
    if isinstance(node, Mapping):
        role = declared.role(path) if declared is not None and path else None
        if role == "pod" or _is_pod_level(node):
            yield PodPart(path or ".", "pod", node)
        elif not _listed and (role == "container" or _is_container(node)):
            yield PodPart(path or ".", "container", node)
        listed = _has_container_list(node)
        for key, value in node.items():
            yield from pod_parts(
                value,
                f"{path}.{key}" if path else str(key),
                declared=declared,
                _depth=_depth,
                _listed=listed and key in CONTAINER_LISTS,
            )
    elif isinstance(node, list):
        for i, value in enumerate(node):
            # The items of a pod spec's container list are checked through the pod.
            yield from pod_parts(
                value, f"{path}[{i}]", declared=declared, _depth=_depth, _listed=_listed
            )
    elif isinstance(node, str) and _depth < _MAX_STRING_DEPTH:
        for i, document in enumerate(_parsed(node, path or ".")):
            where = f"{path or '.'} (parsed string)" + (f"[{i}]" if i else "")
            yield from pod_parts(document, where, _depth=_depth + 1)


def _schema_path(path: str) -> str:
    """Return the path as `crd_pod_fields` spells it: list indexes as `[]`."""
    return re.sub(r"\[\d+\]", "[]", path)


def _schema_kind(schema: Mapping[str, Any]) -> Role | None:
    properties = schema.get("properties") or {}
    if not isinstance(properties, Mapping):
        return None
    containers = properties.get("containers") or {}
    if isinstance(containers, Mapping) and containers.get("type") == "array":
        items = containers.get("items") or {}
        if "image" in (items.get("properties") or {}):
            return "pod"
    if "image" in properties and ("securityContext" in properties or "command" in properties):
        return "container"
    return None


def _walk_schema(schema: Any, path: str, found: dict[str, Role], depth: int = 0) -> None:
    if not isinstance(schema, Mapping) or depth > 60:
        return
    role = _schema_kind(schema)
    if role is not None and path:
        found[path] = role
    for name, sub in (schema.get("properties") or {}).items():
        _walk_schema(sub, f"{path}.{name}" if path else str(name), found, depth + 1)
    items = schema.get("items")
    if isinstance(items, Mapping):
        _walk_schema(items, f"{path}[]", found, depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        _walk_schema(extra, f"{path}.*", found, depth + 1)


def crd_pod_fields(crd: CrdInfo) -> dict[str, Role]:
    """Return schema path -> role of every PodSpec- or Container-shaped field of a CRD.

    Paths use `.` between fields, `[]` for a list's items and `*` for a map's values,
    over every served version: `spec.template.spec` -> "pod", `spec.predictor.model` ->
    "container".
    """
    found: dict[str, Role] = {}
    for schema in crd.schemas.values():
        _walk_schema(schema, "", found)
    return found


def declared_fields(crds: Iterable[CrdInfo]) -> dict[tuple[str, str], DeclaredFields]:
    """Return (group, kind) -> the declared pod and container fields of each CRD with any."""
    table: dict[tuple[str, str], DeclaredFields] = {}
    for crd in crds:
        fields = crd_pod_fields(crd)
        if fields:
            table[(crd.group, crd.kind)] = DeclaredFields(fields)
    return table
