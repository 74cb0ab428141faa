"""Read the catalogue's data files: the release table and each release's component table.

The files live in `tables/` beside this module (`releases.toml`, `kubeflow-<release>.toml`);
their comments say what each key means. A key the format does not know, a value of the
wrong type or an unknown name is a `CatalogueError` naming the file and the key, so a typo
in a table fails every plan at once instead of planning without the entry.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from infra.kubeflow.catalogue.component import (
    OPTION_ATTRIBUTES,
    Component,
    KubeflowRelease,
)
from infra.kubeflow.errors import CatalogueError
from infra.kubeflow.objects import DeclaredEdge, ObjectMatch

TABLES = Path(__file__).resolve().parent / "tables"
RELEASE_TABLE = "releases.toml"

_COMPONENT_FIELDS = frozenset(
    {"name", "description", "paths", "options", "namespace", "needs", "edges", "data"}
)
# Keys of a component in a table that `extends` another: where it goes in the base's order.
_PLACEMENT = frozenset({"replaces", "after"})
_EDGE_FIELDS = frozenset({"dependent", "dependency", "reason"})
_RELEASE_FIELDS = frozenset({"name", "git_tag", "kubernetes", "table", "fingerprint"})


def load_releases(folder: Path = TABLES) -> tuple[KubeflowRelease, ...]:
    """Return every release of `folder/releases.toml`, in the file's order.

    Raises:
        CatalogueError: a table is missing, not TOML, or has a key or value it may not.

    """
    where = folder / RELEASE_TABLE
    doc = _read(where)
    _only(doc, {"release"}, str(where))
    tables: dict[str, tuple[tuple[Component, ...], Mapping[str, tuple[str, ...]]]] = {}
    kubeflow_releases: list[KubeflowRelease] = []
    for index, entry in enumerate(_list(doc.get("release"), where, "release")):
        at = f"release[{index}]"
        _only(entry, _RELEASE_FIELDS, f"{where}: {at}")
        table = _string(entry.get("table"), where, f"{at}.table")
        if table not in tables:
            tables[table] = load_components(folder / table)
        components, presets = tables[table]
        kubeflow_releases.append(
            KubeflowRelease(
                name=_string(entry.get("name"), where, f"{at}.name"),
                git_tag=_string(entry.get("git_tag"), where, f"{at}.git_tag"),
                kubernetes=_strings(entry.get("kubernetes"), where, f"{at}.kubernetes"),
                components=components,
                presets=presets,
                fingerprint=_frozen_map(
                    _strings_map(entry.get("fingerprint", {}), where, f"{at}.fingerprint")
                ),
            )
        )
    return tuple(kubeflow_releases)


def load_components(
    where: Path,
) -> tuple[tuple[Component, ...], Mapping[str, tuple[str, ...]]]:
    """Return the components (in order) and presets of the component table `where`.

    A table that `extends` another is read as that table with its own entries applied.

    Raises:
        CatalogueError: as `load_releases`.

    """
    doc = _read(where)
    _only(doc, {"extends", "component", "presets"}, str(where))
    entries = _list(doc.get("component"), where, "component")
    presets = {
        name: _strings(value, where, f"presets.{name}")
        for name, value in _table(doc.get("presets", {}), where, "presets").items()
    }
    if "extends" not in doc:
        components = [
            _component(entry, where, f"component[{i}]") for i, entry in enumerate(entries)
        ]
        return tuple(components), _frozen_map(presets)
    base, base_presets = load_components(where.parent / _string(doc["extends"], where, "extends"))
    merged = list(base)
    for index, entry in enumerate(entries):
        _place(merged, entry, where, f"component[{index}]")
    return tuple(merged), _frozen_map({**base_presets, **presets})


def _place(components: list[Component], entry: dict[str, Any], where: Path, at: str) -> None:
    """Apply one entry of an extending table to the base's `components`, in place."""
    fields = {k: v for k, v in entry.items() if k not in _PLACEMENT}
    names = [c.name for c in components]
    if entry.keys() >= _PLACEMENT:
        raise _error(where, at, "gives both replaces and after; a replacement keeps its place")
    target = entry.get("replaces", entry.get("after"))
    if target is None:
        name = _string(entry.get("name"), where, f"{at}.name")
        if name in names:  # change the fields it gives
            position = names.index(name)
            components[position] = replace(components[position], **_fields(fields, where, at))
        else:
            components.append(_component(fields, where, at))
        return
    if target not in names:
        raise _error(where, at, f"names {target!r}, which the base table does not have")
    position = names.index(target)
    if "replaces" in entry:
        components[position] = _component(fields, where, at)
    else:
        components.insert(position + 1, _component(fields, where, at))


def _component(entry: dict[str, Any], where: Path, at: str) -> Component:
    fields = _fields(entry, where, at)
    for required in ("name", "description", "paths"):
        if required not in fields:
            raise _error(where, at, f"{required} is required")
    return Component(**fields)


def _fields(entry: dict[str, Any], where: Path, at: str) -> dict[str, Any]:
    """Return the Component fields `entry` gives, read and checked."""
    _only(entry, _COMPONENT_FIELDS, f"{where}: {at}")
    fields: dict[str, Any] = {}
    for key in ("name", "description", "namespace"):
        if key in entry:
            fields[key] = _string(entry[key], where, f"{at}.{key}")
    for key in ("paths", "needs"):
        if key in entry:
            fields[key] = _strings(entry[key], where, f"{at}.{key}")
    if "data" in entry:
        data = _strings(entry["data"], where, f"{at}.data")
        fields["data"] = tuple(_match(text, where, f"{at}.data") for text in data)
    if "edges" in entry:
        edges = _list(entry["edges"], where, f"{at}.edges")
        fields["edges"] = tuple(_edge(e, where, f"{at}.edges[{i}]") for i, e in enumerate(edges))
    if "options" in entry:
        fields["options"] = _frozen_map(
            {
                attribute: _variants(variants, where, f"{at}.options.{attribute}")
                for attribute, variants in _table(entry["options"], where, f"{at}.options").items()
            }
        )
    return fields


def _variants(value: object, where: Path, at: str) -> Mapping[str, tuple[str, ...]]:
    attribute = at.rpartition(".")[2]
    if attribute not in OPTION_ATTRIBUTES:
        raise _error(where, at, f"unknown setting; allowed: {', '.join(OPTION_ATTRIBUTES)}")
    return _frozen_map(
        {
            name: _strings(paths, where, f"{at}.{name}")
            for name, paths in _table(value, where, at).items()
        }
    )


def _edge(entry: dict[str, Any], where: Path, at: str) -> DeclaredEdge:
    _only(entry, _EDGE_FIELDS, f"{where}: {at}")
    return DeclaredEdge(
        dependent=_match(_string(entry.get("dependent"), where, f"{at}.dependent"), where, at),
        dependency=_match(_string(entry.get("dependency"), where, f"{at}.dependency"), where, at),
        reason=_string(entry.get("reason"), where, f"{at}.reason"),
    )


def _match(text: str, where: Path, at: str) -> ObjectMatch:
    try:
        return ObjectMatch.parse(text)
    except ValueError as exc:
        raise _error(where, at, str(exc)) from None


def _read(where: Path) -> dict[str, Any]:
    try:
        with where.open("rb") as stream:
            return tomllib.load(stream)
    except OSError as exc:
        raise CatalogueError(f"catalogue table {where}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"catalogue table {where}: not TOML: {exc}") from None


def _error(where: Path, key: str, what: str) -> CatalogueError:
    return CatalogueError(f"catalogue table {where}: {key}: {what}")


def _only(entry: Mapping[str, Any], allowed: frozenset[str] | set[str], at: str) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise CatalogueError(
            f"catalogue table {at}: unknown key {', '.join(map(repr, unknown))}",
            hint=f"allowed: {', '.join(sorted(allowed))}",
        )


def _string(value: object, where: Path, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise _error(where, key, f"want a non-empty string, got {value!r}")
    return value


def _strings(value: object, where: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _error(where, key, f"want a list of strings, got {value!r}")
    return tuple(value)


def _list(value: object, where: Path, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _error(where, key, "want an array of tables ([[...]])")
    return value


def _table(value: object, where: Path, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _error(where, key, f"want a table, got {value!r}")
    return value


def _strings_map(value: object, where: Path, key: str) -> dict[str, str]:
    table = _table(value, where, key)
    for name, text in table.items():
        _string(text, where, f"{key}.{name}")
    return table


def _frozen_map(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))
