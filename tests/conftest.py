"""Test options and shared fixtures: the --e2e switch and the shared release data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KFSTACK_SHARED", REPO.parent / "shared"))
KUBEFLOW_2603 = SHARED / "kubeflow" / "26.03" / "manifests"
KUBEFLOW_RELEASES = {
    "26.03": KUBEFLOW_2603,
    "v1.10.2": SHARED / "kubeflow" / "v1.10.2" / "manifests",
}
MODEL_REGISTRY_OPENAPI = SHARED / "model-registry" / "v0.3.7" / "model-registry.openapi.yaml"


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
    """The real Kubeflow 26.03 manifests, read-only, from ../shared."""
    if not (KUBEFLOW_2603 / "example" / "kustomization.yaml").is_file():
        pytest.fail(f"Kubeflow 26.03 manifests not found at {KUBEFLOW_2603} (set KFSTACK_SHARED)")
    return KUBEFLOW_2603


@pytest.fixture(scope="session")
def shared_releases() -> dict[str, Path]:
    """Every shared Kubeflow release: name -> its manifests root (read-only)."""
    missing = [str(p) for p in KUBEFLOW_RELEASES.values() if not (p / "example").is_dir()]
    if missing:
        pytest.fail(f"Kubeflow manifests not found at {', '.join(missing)} (set KFSTACK_SHARED)")
    return dict(KUBEFLOW_RELEASES)


@pytest.fixture(scope="session")
def model_registry_openapi() -> Path:
    """The Model Registry v0.3.7 OpenAPI contract, read-only, from ../shared."""
    if not MODEL_REGISTRY_OPENAPI.is_file():
        pytest.fail(f"Model Registry OpenAPI not found at {MODEL_REGISTRY_OPENAPI}")
    return MODEL_REGISTRY_OPENAPI
