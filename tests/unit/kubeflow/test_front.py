"""The front file of the pure core: its public names, imported lazily from their modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import infra.kubeflow as front


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    tree = ast.parse(Path(front.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If))
    return {
        alias.asname or alias.name: (str(node.module), alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_all_the_table_and_the_type_checking_imports_agree() -> None:
    assert set(front.__all__) == set(front._EXPORTS)
    assert _type_checking_imports() == front._EXPORTS


def test_every_public_name_is_the_object_of_its_module() -> None:
    for name, (module, attribute) in front._EXPORTS.items():
        assert getattr(front, name) is getattr(importlib.import_module(module), attribute)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="build_plans"):
        front.build_plans  # noqa: B018
