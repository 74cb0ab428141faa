"""Engine tier fixtures: one control plane and one Pulumi project per test module.

Opt-in (`make engine-test`, i.e. `pytest --engine tests/engine`); skipped with the reason
when not asked for, or when the binaries of `make engine`, root or `ip` are missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.harness import (
    ControlPlane,
    PulumiProject,
    control_plane,
    engine_path,
    missing_engine,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine_items = [item for item in items if item.get_closest_marker("engine") is not None]
    if not engine_items:
        return
    reason: str | None
    if not config.getoption("--engine"):
        reason = "engine tier: opt-in, run `make engine` then `make engine-test`"
    else:
        reason = missing_engine()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in engine_items:
        item.add_marker(skip)


@pytest.fixture(scope="module")
def path() -> str:
    """PATH with the engine's binaries first."""
    return engine_path()


@pytest.fixture(scope="module")
def plane(path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A fresh control plane in a network namespace of its own, stopped afterwards."""
    name = f"kfstack-engine-{uuid.uuid4().hex[:6]}"
    with control_plane(name, tmp_path_factory.mktemp("plane"), path=path) as running:
        yield running


@pytest.fixture(scope="module")
def project(
    plane: ControlPlane, path: str, tmp_path_factory: pytest.TempPathFactory
) -> PulumiProject:
    """A copy of the kfstack project with a file backend, run inside the namespace."""
    return PulumiProject(root=Path(tmp_path_factory.mktemp("project")), plane=plane, path=path)
