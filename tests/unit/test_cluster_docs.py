"""What is said of the cluster kinds elsewhere is read from the kinds' own models.

A new kind is its module plus one line in `KINDS`: these tests fail when the README's
table, pyproject's extras or the `cloud` group disagree with what the kinds declare.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic.alias_generators import to_camel

from infra.cluster.base import ClusterBase
from infra.cluster.docs import BEGIN, END, kinds_table, own_fields, with_kinds_table
from infra.cluster.kinds import KINDS, kind_models

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
# Extras that are not a cluster kind's cloud SDK.
OTHER_EXTRAS = {"ml"}


def test_the_readme_table_is_written_from_the_kinds() -> None:
    assert with_kinds_table(README) == README, "run `python -m infra.cluster.docs`"
    table = README.split(BEGIN)[1].split(END)[0]
    assert [f"| `{name}` |" in table for name in KINDS] == [True] * len(KINDS)


def test_the_table_names_each_kinds_own_fields() -> None:
    table = kinds_table()
    for model in kind_models().values():
        for name in own_fields(model):
            assert f"`{to_camel(name)}`" in table


def test_the_readme_config_row_names_the_common_fields() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `kfstack:cluster` |"))
    named = set(re.findall(r"`(\w+)`", row))
    assert {to_camel(name) for name in ClusterBase.model_fields} <= named


def test_pyproject_extras_are_the_kinds_cloud_sdks() -> None:
    declared = {
        model.EXTRA.name: sorted(model.EXTRA.requirements)
        for model in kind_models().values()
        if model.EXTRA is not None
    }
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {k: sorted(v) for k, v in extras.items() if k not in OTHER_EXTRAS} == declared


def test_the_cloud_group_holds_every_kinds_extra() -> None:
    """Pulumi's uv toolchain installs default groups, not extras: `cloud` mirrors them."""
    wanted = sorted(
        r for reqs in kind_models().values() if reqs.EXTRA for r in reqs.EXTRA.requirements
    )
    assert sorted(PYPROJECT["dependency-groups"]["cloud"]) == wanted
    assert "cloud" in PYPROJECT["tool"]["uv"]["default-groups"]
