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
    CLI_COMPONENTS,
    ControlPlane,
    PulumiProject,
    bare_namespace,
    control_plane,
    engine_path,
    missing_engine,
)
from tests.engine.registry import fake_registry


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine_items = [item for item in items if item.get_closest_marker("engine") is not None]
    if not engine_items:
        return
    if not config.getoption("--engine"):
        skip = pytest.mark.skip(
            reason="engine tier: opt-in, run `make engine` then `make engine-test`"
        )
        for item in engine_items:
            item.add_marker(skip)
        return
    reasons = {False: missing_engine(), True: missing_engine(CLI_COMPONENTS)}
    for item in engine_items:
        reason = reasons["cli_project" in getattr(item, "fixturenames", ())]
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


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


@pytest.fixture(scope="module")
def registry(plane: ControlPlane, project: PulumiProject) -> Iterator[None]:
    """The Model Registry double at the registry pod's IP, for the rest of the module."""
    with fake_registry(plane, project.env):
        yield


@pytest.fixture(scope="module")
def cli_project(path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulumiProject]:
    """A project whose commands run in a bare namespace: the CLI alone, no control plane."""
    state = tmp_path_factory.mktemp("bare")
    with bare_namespace(f"kfstack-cli-{uuid.uuid4().hex[:6]}", state) as namespace:
        yield PulumiProject(root=state / "project", plane=namespace, path=path)
