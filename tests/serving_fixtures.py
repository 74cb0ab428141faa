"""Small real inputs for serving tests: release records and a compiled pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from ml.release import InputColumn, ModelRelease, write_release

PIPELINE_SPEC = {
    "pipelineInfo": {"name": "kfstack-training", "description": "CSV to served model"},
    "schemaVersion": "2.1.0",
    "sdkVersion": "kfp-2.17.3",
    "root": {"dag": {"tasks": {"train": {"taskInfo": {"name": "train"}}}}},
    "components": {},
    "deploymentSpec": {"executors": {}},
}


def make_release(
    version: str = "1", *, storage: str = "s3://models/iris/r1", **extra: object
) -> ModelRelease:
    fields: dict[str, object] = {
        "name": "iris",
        "version": version,
        "serving_version": 1,
        "storage_uri": storage,
        "metrics": {"accuracy": 0.93, "auc": 0.97},
        "input_schema": (
            InputColumn(name="sepal_length", kind="numeric", dtype="float32"),
            InputColumn(name="species_hint", kind="categorical", dtype="string"),
        ),
        "created_at": datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
        "description": "iris classifier",
    }
    fields.update(extra)
    return ModelRelease.model_validate(fields)


def write_release_file(path: Path, release: ModelRelease) -> Path:
    write_release(release, path)
    return path


def write_pipeline(path: Path, *, description: str = "CSV to served model") -> Path:
    info = {"name": "kfstack-training", "description": description}
    spec = {**PIPELINE_SPEC, "pipelineInfo": info}
    path.write_text(yaml.safe_dump(spec, sort_keys=True))
    return path
