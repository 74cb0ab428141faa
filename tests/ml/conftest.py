"""Fixtures of the ml tests: small CSVs generated from known rules, and the CLI entry point."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

CITIES = ("paris", "lyon", "nice", "lille")


def write_rows(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Write a CSV (empty string for None)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def classification_rows(n: int, seed: int = 0, *, classes: int = 2) -> list[list[object]]:
    """Rows of (row id, age, income (k), city, label) from a known rule with noise.

    The score is linear in age and income plus a city effect; the label is its sign (or
    its tercile for three classes). Every 40th age and every 55th city is missing.
    """
    rng = np.random.default_rng(seed)
    effect = {"paris": 1.0, "lyon": -0.6, "nice": 0.2, "lille": -0.4}
    rows: list[list[object]] = []
    for i in range(n):
        age, income = rng.normal(40, 10), rng.normal(50, 20)
        city = CITIES[int(rng.integers(len(CITIES)))]
        score = 0.1 * (age - 40) + 0.05 * (income - 50) + effect[city] + rng.normal(0, 0.3)
        if classes == 2:
            label: object = "yes" if score > 0 else "no"
        else:
            label = ("low", "mid", "high")[int(np.digitize(score, [-0.6, 0.6]))]
        rows.append(
            [
                i,
                None if i % 40 == 7 else round(age, 1),
                round(income, 2),
                None if i % 55 == 3 else city,
                label,
            ]
        )
    return rows


HEADER = ["row id", "age", "income (k)", "city", "label"]


@pytest.fixture
def make_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write `text` (str or bytes) to a CSV file in tmp_path and return its path."""

    def make(text: str | bytes, name: str = "data.csv") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return make


@pytest.fixture(scope="session")
def people_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4000-row binary classification CSV with spaces in headers and missing values."""
    path = tmp_path_factory.mktemp("people") / "people.csv"
    return write_rows(path, HEADER, classification_rows(4000))


@pytest.fixture
def kfstack() -> Callable[[list[str]], int]:
    """The `kfstack` command's entry point, called with argv."""
    from kfstack.cli import main

    return main
