"""The stages' front files: every public name listed once, resolved lazily, nothing heavy."""

from __future__ import annotations

import importlib

import pytest

from tests.imports import loaded_by

PACKAGES = ["ml.data", "ml.model", "ml.model_release"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


def test_importing_the_stages_and_the_cli_loads_no_heavy_library() -> None:
    code = (
        "import ml.data, ml.model, ml.model_release, kfstack.cli\n"
        "from ml.model import TrainConfig\nfrom ml.data import DatasetSpec\n"
        "from ml.model_release import ModelRelease\n"
        "kfstack.cli.build_parser()"
    )
    heavy = {"tensorflow", "keras", "pandas", "pyarrow", "kfp", "boto3"}
    assert loaded_by(code, heavy) == []
