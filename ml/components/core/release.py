"""The release step: a promoted model -> its release record (`ml.model_release.record`)."""

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from ml.data import DatasetSchema
from ml.model import input_dtype
from ml.model_release import InputColumn, ModelRelease, PipelineRun

_NOT_VERSION_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def storage_uri_of(model_uri: str) -> str:
    """Return the URI KServe fetches a model artifact from (the parent of `<version>/`).

    KFP's MinIO (`minio://bucket/key`) is S3-compatible: KServe reads it as `s3://bucket/key`
    with an S3 endpoint in its credentials. `s3://` and `gs://` are kept as they are.

    Raises:
        ValueError: a local path or another scheme: pass `storage_uri` explicitly.

    """
    parsed = urlparse(model_uri)
    if parsed.scheme == "minio":
        return "s3://" + model_uri[len("minio://") :].rstrip("/")
    if parsed.scheme in ("s3", "gs"):
        return model_uri.rstrip("/")
    raise ValueError(
        f"the model artifact {model_uri!r} has no URI KServe can fetch from; "
        "give storage_uri (s3://, gs://, pvc:// or https://) where the model is uploaded"
    )


def release_version(version: str, run_id: str) -> str:
    """Return `version`, or one made from the run id (or the UTC time) when it is empty."""
    if version:
        return version
    text = _NOT_VERSION_CHARS.sub("-", run_id).strip("-._")[:63]
    return text or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def input_schema(schema: DatasetSchema) -> tuple[InputColumn, ...]:
    """The named inputs of the serving signature: one per feature, by sanitized key."""
    return tuple(
        InputColumn.model_validate({"name": c.key, "kind": c.kind, "dtype": input_dtype(c.kind)})
        for c in schema.features
    )


def build_release(
    *,
    name: str,
    version: str,
    serving_version: int,
    storage_uri: str,
    metrics: dict[str, float],
    schema: DatasetSchema,
    run_id: str = "",
    run_name: str = "",
    description: str = "",
) -> ModelRelease:
    """Assemble and validate the release record of a trained model.

    Raises:
        pydantic.ValidationError: an invalid name, version, storage URI or metric.

    """
    run = PipelineRun(id=run_id, name=run_name or None) if run_id.strip() else None
    data: dict[str, Any] = {
        "name": name,
        "version": release_version(version, run_id),
        "serving_version": serving_version,
        "storage_uri": storage_uri,
        "metrics": metrics,
        "input_schema": input_schema(schema),
        "pipeline_run": run,
        "created_at": datetime.now(UTC),
        "description": description,
        "labels": {"kfstack.io/task": schema.label.task},
        "label": schema.label.name,
        "task": schema.label.task,
        "classes": schema.label.classes,
    }
    return ModelRelease.model_validate(data)
