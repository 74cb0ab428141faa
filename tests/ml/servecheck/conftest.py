"""A tiny model trained once per session with the ml package, its release record and holdout.

The CSV is the ml tests' people data with capitalised cities ("Paris"), so a server that
lower-cases a category sends values the model has never seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ml.conftest import HEADER, classification_rows, write_rows
from tests.ml.servecheck.kserve_stub import StubServer, load_model, serve

MODEL = "people"


@dataclass(frozen=True)
class Served:
    """Everything a check needs: the export, its release record and the held-out split."""

    export_dir: Path
    release: Path
    holdout: Path
    dataset: Path
    metrics: dict[str, float]
    runtime: Any


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    from ml.components.core.release import build_release
    from ml.data import DatasetSpec, build_dataset
    from ml.model import TrainConfig, train
    from ml.model_release import write_release

    root = tmp_path_factory.mktemp("servecheck")
    rows = classification_rows(2000, seed=3)
    for row in rows:
        row[3] = row[3].title() if isinstance(row[3], str) else row[3]
    csv = write_rows(root / "people.csv", HEADER, rows)
    spec = DatasetSpec(label="label", categorical=("city",), ignore=("row id",))
    built = build_dataset(csv, spec, root / "dataset")
    config = TrainConfig(epochs=4, batch_size=128, learning_rate=3e-3, patience=2, seed=0)
    result = train(built.directory, root / "models", config=config)
    release = build_release(
        name=MODEL,
        version="1",
        serving_version=result.version,
        storage_uri="s3://models/people",
        metrics=result.metrics,
        schema=built.schema,
    )
    path = write_release(release, root / "release.json")
    return Served(
        export_dir=result.export_dir,
        release=path,
        holdout=built.directory / "test.csv",
        dataset=built.directory,
        metrics=dict(release.metrics),
        runtime=load_model(result.export_dir),
    )


@pytest.fixture
def server(served: Served) -> Iterator[StubServer]:
    """A fresh KServe v1 stub serving the session's model (behaviour set per test)."""
    with serve(served.export_dir, MODEL, loaded=served.runtime) as stub:
        yield stub
