"""The stages' front files: every public name listed once, resolved lazily, nothing heavy."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["ml.data", "ml.model", "ml.model_release"]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_what_the_front_file_resolves(package: str) -> None:
    module = importlib.import_module(package)
    exported = [name for names in module._EXPORTS.values() for name in names]
    assert sorted(module.__all__) == sorted(exported)
    assert len(set(exported)) == len(exported)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


def test_importing_the_stages_and_the_cli_loads_no_heavy_library() -> None:
    code = (
        "import sys, ml.data, ml.model, ml.model_release, kfstack.cli;"
        "from ml.model import TrainConfig; from ml.data import DatasetSpec;"
        "from ml.model_release import ModelRelease;"
        "kfstack.cli.build_parser();"
        "heavy = {'tensorflow', 'keras', 'pandas', 'pyarrow', 'kfp', 'boto3'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
