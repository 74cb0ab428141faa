"""`kfstack release publish`: upload a locally trained model, point its record at the upload.

A local run (`kfstack pipeline run-local`) leaves ``<out>/model/<version>/`` and, when the
candidate was promoted, ``<out>/release.json`` whose storage URI is the local ``file://``
model directory. Publishing uploads that version directory to the stack's object store
under ``s3://<bucket>/<prefix>/<name>/<release version>/<version>/`` and rewrites the
record's storage URI to its parent, which KServe reads with the profile's own keys. The
prefix is the profile's ``private/<ns>/models`` (`ml.model_release.profile.models_prefix`):
a profile's keys may use only its own paths. The record is rewritten only after every file
is uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.model_release.record import ModelRelease, load_release, write_release
from ml.model_release.store import ObjectStore, StoreError, describe, s3_client

__all__ = ["DEFAULT_BUCKET", "PublishError", "Published", "publish_release"]

DEFAULT_BUCKET = "mlpipeline"


@dataclass(frozen=True)
class Published:
    """What was uploaded and the rewritten record."""

    release: ModelRelease
    path: Path
    files: int
    bytes: int


class PublishError(RuntimeError):
    """The model or record cannot be published as given."""


def _version_dir(model: Path, release: ModelRelease) -> Path:
    root = (
        model / str(release.serving_version)
        if model.name != str(release.serving_version)
        else model
    )
    if not (root / "saved_model.pb").is_file():
        raise PublishError(
            f"{root}: no SavedModel (saved_model.pb) for serving version "
            f"{release.serving_version}: give the model export root of the run (<out>/model)"
        )
    return root


def _check_bucket(s3: Any, bucket: str, store: ObjectStore) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:  # botocore: ClientError (404/403) or an endpoint error
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 403:  # a profile's keys may use only its paths, not the bucket itself
            return
        raise StoreError(
            f"bucket {bucket!r} at {store.endpoint}: {describe(exc)} (give --bucket, and "
            "--s3-endpoint reaching the stack's object store)"
        ) from None


def publish_release(
    model: Path,
    release_path: Path,
    *,
    bucket: str = DEFAULT_BUCKET,
    store: ObjectStore,
    prefix: str,
    out: Path | None = None,
) -> Published:
    """Upload the model version of `release_path` and write the record with its s3:// URI.

    Args:
        model: The export root (``<out>/model``) or the version directory itself.
        release_path: The local release record.
        store: The object store.
        bucket: Bucket to upload to (it must exist; Kubeflow's is ``mlpipeline``).
        prefix: Key prefix under the bucket (a profile's: `models_prefix`).
        out: Where to write the rewritten record (default: over `release_path`).

    Raises:
        ReleaseError: the record is missing or invalid.
        PublishError: no SavedModel for the record's serving version.
        StoreError: the store is unreachable, the bucket missing, or an upload failed.

    """
    release = load_release(release_path)
    version_dir = _version_dir(model, release)
    files = sorted(p for p in version_dir.rglob("*") if p.is_file())
    key_root = "/".join(p for p in (prefix.strip("/"), release.name, release.version) if p)
    s3 = s3_client(store)
    _check_bucket(s3, bucket, store)
    size = 0
    for path in files:
        key = f"{key_root}/{release.serving_version}/{path.relative_to(version_dir).as_posix()}"
        try:
            s3.upload_file(str(path), bucket, key)
        except Exception as exc:  # boto3 S3UploadFailedError, ClientError, EndpointError
            raise StoreError(f"upload of {path} to s3://{bucket}/{key}: {describe(exc)}") from None
        size += path.stat().st_size
    published = ModelRelease.model_validate(
        {**release.model_dump(), "storage_uri": f"s3://{bucket}/{key_root}"}
    )
    written = write_release(published, out or release_path)
    return Published(published, written, len(files), size)
