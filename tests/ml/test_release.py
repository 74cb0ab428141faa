"""The release record: validation, round trip, and errors that name the file and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from ml.model_release import (
    SCHEMA_VERSION,
    ColumnKind,
    ModelRelease,
    ReleaseError,
    load_release,
    release_json_schema,
    write_release,
)


def release_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": "iris",
        "version": "3",
        "serving_version": 3,
        "format": {"name": "tensorflow", "version": "2"},
        "storage_uri": "s3://models/iris",
        "metrics": {"accuracy": 0.97, "loss": 0.08},
        "input_schema": [
            {"name": "sepal_length", "kind": "numeric", "dtype": "float32"},
            {"name": "species_hint", "kind": "categorical", "dtype": "string"},
        ],
        "pipeline_run": {"id": "run-123", "name": "train-iris", "url": "https://kfp.example/r/1"},
        "created_at": "2026-11-28T12:00:00+00:00",
        "description": "Iris classifier",
        "labels": {"team": "ml", "kfstack.dev/env": "dev"},
    }
    data.update(overrides)
    return data


def write_json(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "release.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_valid_record_loads_with_typed_fields(tmp_path: Path) -> None:
    release = load_release(write_json(tmp_path, release_data()))
    assert release.name == "iris"
    assert release.serving_version == 3
    assert release.input_schema[1].kind is ColumnKind.CATEGORICAL
    assert release.created_at == datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert release.version_uri == "s3://models/iris/3"
    assert release.registry_uri == "model-registry://iris/3"
    assert release.pipeline_run is not None
    assert release.pipeline_run.id == "run-123"


def test_release_is_frozen() -> None:
    release = ModelRelease.model_validate(release_data())
    with pytest.raises(ValidationError):
        release.name = "other"  # type: ignore[misc]


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    release = ModelRelease.model_validate(release_data())
    path = write_release(release, tmp_path / "out" / "release.json")
    assert load_release(path) == release
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_written_record_validates_against_published_json_schema(tmp_path: Path) -> None:
    path = write_release(ModelRelease.model_validate(release_data()), tmp_path / "r.json")
    schema = release_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(json.loads(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(release_data(schema_version="kfstack.release/v0"), schema)


@pytest.mark.parametrize(
    "uri",
    ["s3://bucket/models/iris", "gs://b/iris", "pvc://models-claim/iris", "https://acct.blob/x"],
)
def test_storage_uri_schemes_allowed(uri: str) -> None:
    assert ModelRelease.model_validate(release_data(storage_uri=uri)).storage_uri == uri


def test_storage_uri_trailing_slash_is_normalised() -> None:
    release = ModelRelease.model_validate(release_data(storage_uri="gs://b/iris/"))
    assert release.storage_uri == "gs://b/iris"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://host/iris", "is not one of s3://"),
        ("file://host/tmp/iris", "a local model is file:///absolute/path"),
        ("/tmp/iris", "is not one of"),
        ("s3:///iris", "no bucket"),
        ("s3://bucket/models/iris/3", "ends in the version directory '3'"),
    ],
)
def test_bad_storage_uri_is_rejected_with_reason(tmp_path: Path, uri: str, message: str) -> None:
    path = write_json(tmp_path, release_data(storage_uri=uri))
    with pytest.raises(ReleaseError) as info:
        load_release(path)
    assert "storage_uri" in str(info.value)
    assert message in str(info.value)


def test_every_invalid_field_path_is_reported(tmp_path: Path) -> None:
    data = release_data(
        name="Iris_Model",
        serving_version=0,
        metrics={"accuracy": "high"},
        input_schema=[{"name": "a", "kind": "ordinal", "dtype": "float32"}],
        labels={"bad key!": "x"},
    )
    path = write_json(tmp_path, data)
    with pytest.raises(ReleaseError) as info:
        load_release(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid release record")
    fields = ("name:", "serving_version:", "metrics.accuracy:", "input_schema[0].kind:", "labels:")
    for field in fields:
        assert f"  - {field}" in message, field


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match=r"storageUri: Extra inputs are not permitted"):
        load_release(write_json(tmp_path, release_data(storageUri="s3://x/y")))


def test_missing_required_fields_are_named(tmp_path: Path) -> None:
    data = release_data()
    del data["storage_uri"], data["created_at"]
    with pytest.raises(ReleaseError) as info:
        load_release(write_json(tmp_path, data))
    assert "  - storage_uri: Field required" in str(info.value)
    assert "  - created_at: Field required" in str(info.value)


def test_naive_timestamp_is_rejected() -> None:
    with pytest.raises(ValidationError, match="created_at"):
        ModelRelease.model_validate(release_data(created_at="2026-11-28T12:00:00"))


@pytest.mark.parametrize("metric", [float("nan"), float("inf")])
def test_non_finite_metric_is_rejected(metric: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        ModelRelease.model_validate(release_data(metrics={"loss": metric}))


def test_duplicate_and_inconsistent_columns_are_rejected() -> None:
    dup = [{"name": "a", "kind": "numeric", "dtype": "float32"}] * 2
    with pytest.raises(ValidationError, match="duplicate input column names: a"):
        ModelRelease.model_validate(release_data(input_schema=dup))
    numeric_string = [{"name": "a", "kind": "numeric", "dtype": "string"}]
    with pytest.raises(ValidationError, match="numeric column cannot have dtype 'string'"):
        ModelRelease.model_validate(release_data(input_schema=numeric_string))


@pytest.mark.parametrize("name", ["iris", "iris-v2", "a" * 45])
def test_names_valid_for_registry_and_kserve(name: str) -> None:
    assert ModelRelease.model_validate(release_data(name=name)).name == name


@pytest.mark.parametrize("name", ["Iris", "2iris", "iris-", "iris.v2", "a" * 46, ""])
def test_names_invalid_for_kserve_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        ModelRelease.model_validate(release_data(name=name))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ReleaseError, match=rf"^{path}: release record not found$"):
        load_release(path)


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    path.write_text('{\n  "name": "iris",\n  "version": 3,,\n}\n', encoding="utf-8")
    with pytest.raises(ReleaseError, match=rf"^{path}:3:16: malformed JSON"):
        load_release(path)


def test_non_object_json_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="is a JSON object, not list"):
        load_release(write_json(tmp_path, [1, 2]))


def test_unsupported_schema_version_is_named(tmp_path: Path) -> None:
    path = write_json(tmp_path, release_data(schema_version="kfstack.release/v9"))
    with pytest.raises(ReleaseError, match=r"unsupported schema_version 'kfstack.release/v9'"):
        load_release(path)


def test_json_schema_describes_every_field() -> None:
    schema = release_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) >= {"name", "version", "serving_version", "storage_uri"}
    assert set(schema["properties"]) == set(ModelRelease.model_fields)
