"""Test options and shared fixtures: the --e2e switch and the shared release data.

What the tests read from KFSTACK_SHARED is listed once, in tests/shared.toml; a session
that lacks any of it stops at the start with one message saying what and how to fetch it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import shared

REPO = Path(__file__).resolve().parents[1]
SHARED = shared.locate()
KUBEFLOW_RELEASES = {copy.release: SHARED / copy.path for copy in shared.NEEDS.kubeflow}
KUBEFLOW_2603 = KUBEFLOW_RELEASES["26.03"]
MODEL_REGISTRY_OPENAPI = SHARED / shared.NEEDS.model_registry.path


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop before collecting when KFSTACK_SHARED lacks what the tests read."""
    lacking = shared.missing(SHARED)
    if lacking:
        raise pytest.UsageError(shared.message(SHARED, lacking))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--e2e",
        action="store_true",
        default=False,
        help="run end-to-end tests against a real cluster (needs Pulumi CLI, Docker, kind)",
    )
    parser.addoption(
        "--engine",
        action="store_true",
        default=False,
        help="run the engine tier (real pulumi CLI + provider + API server; `make engine` first)",
    )
    parser.addoption(
        "--image",
        action="store_true",
        default=False,
        help="run pipeline steps in the component image (root, buildah; `make image` first)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--e2e"):
        return
    skip = pytest.mark.skip(reason="end-to-end: pass --e2e to run against a real cluster")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Renders and plans go to a cache of this test session, never the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def kubeflow_manifests() -> Path:
    """The real Kubeflow 26.03 manifests, read-only, from KFSTACK_SHARED."""
    return KUBEFLOW_2603


@pytest.fixture(scope="session")
def shared_releases() -> dict[str, Path]:
    """Every shared Kubeflow release: name -> its manifests root (read-only)."""
    return dict(KUBEFLOW_RELEASES)


@pytest.fixture(scope="session")
def model_registry_openapi() -> Path:
    """The Model Registry OpenAPI contract, read-only, from KFSTACK_SHARED."""
    return MODEL_REGISTRY_OPENAPI
