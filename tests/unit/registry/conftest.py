"""Fixtures: the contract (loaded once) and a contract-checked registry double per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.registry.double import Contract, RegistryDouble


@pytest.fixture(scope="session")
def contract(model_registry_openapi: Path) -> Contract:
    """The Model Registry v0.3.7 OpenAPI contract, parsed once per session."""
    return Contract(model_registry_openapi)


@pytest.fixture
def registry(contract: Contract) -> Iterator[RegistryDouble]:
    """A running registry double; the test fails if any exchange broke the contract."""
    with RegistryDouble(contract) as double:
        yield double
    assert double.violations == [], "\n".join(double.violations)
