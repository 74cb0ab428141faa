"""Sharded datasets in the profile's object store: uploaded by `data build`, read per worker.

`kfstack data build --shards N --out s3://mlpipeline/private/<ns>/data/<name>` builds the
dataset as usual, then uploads its files under that prefix with the profile's keys (a
profile's keys may use only its own `private/<ns>/` paths, `ml.model_release.profile`). A
worker given that URI downloads schema.json, statistics.json and only its own shards (the
chief also the test shards, to evaluate the export) into a local folder, then trains from
there: no worker holds, or even fetches, the whole data set.

Inside a pod the store comes from boto3's own variables (`store_from_env`): the job maps
the profile's Secret into `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` and the release's
object store service into `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ml.data.schema import SCHEMA_FILE, STATISTICS_FILE, read_schema
from ml.data.shards import assign, shards_of
from ml.model_release.store import ObjectStore, StoreError, describe, s3_client, split_uri

__all__ = [
    "ENV_KEYS",
    "fetch_dataset",
    "is_store_uri",
    "store_env",
    "store_from_env",
    "upload_tree",
]

#: boto3's own variables for the endpoint, keys and region.
ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def is_store_uri(text: str) -> bool:
    """Whether `text` names a place in an object store (`s3://`, `minio://`)."""
    return text.startswith(("s3://", "minio://"))


def upload_tree(directory: Path, uri: str, store: ObjectStore) -> list[str]:
    """Upload every file under `directory` (a built dataset, a model version) under `uri`.

    Returns:
        The keys written.

    Raises:
        StoreError: an upload failed (the message names the file and the S3 error).

    """
    bucket, prefix = split_uri(uri)
    s3 = s3_client(store)
    keys = []
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        key = f"{prefix}/{name}" if prefix else name
        try:
            s3.upload_file(str(path), bucket, key)
        except Exception as exc:  # boto3 S3UploadFailedError, ClientError, EndpointError
            raise StoreError(f"upload of {path} to s3://{bucket}/{key}: {describe(exc)}") from None
        keys.append(key)
    return keys


def fetch_dataset(uri: str, store: ObjectStore, to: Path, *, workers: int, index: int) -> Path:
    """Download what worker `index` of `workers` reads of the dataset at `uri` into `to`.

    Schema and statistics, its train and validation shards, and for the chief (index 0)
    every test shard.

    Raises:
        StoreError: a file is missing or the store refuses it.

    """
    bucket, prefix = split_uri(uri)
    s3 = s3_client(store)
    to.mkdir(parents=True, exist_ok=True)

    def get(name: str) -> None:
        key = f"{prefix}/{name}" if prefix else name
        try:
            s3.download_file(bucket, key, str(to / name))
        except Exception as exc:  # botocore ClientError (404, 403), EndpointError
            raise StoreError(
                f"s3://{bucket}/{key}: {describe(exc)} (is {uri} a dataset built with "
                "`kfstack data build --out` there, readable with these keys?)"
            ) from None

    for name in (SCHEMA_FILE, STATISTICS_FILE):
        get(name)
    schema = read_schema(to)
    wanted = [
        s
        for split in ("train", "validation")
        for s in assign(shards_of(schema, split), workers, index)
    ]
    if index == 0:
        wanted += shards_of(schema, "test")
    for shard in wanted:
        get(shard.file)
    return to


def store_env(store: ObjectStore) -> dict[str, str]:
    """The variables `store_from_env` reads, for a worker process or a pod."""
    values = (store.endpoint, store.access_key, store.secret_key, store.region)
    return dict(zip(ENV_KEYS, values, strict=True))


def store_from_env(environ: Mapping[str, str]) -> ObjectStore:
    """The object store a worker was given through boto3's variables.

    Raises:
        StoreError: a variable is missing.

    """
    missing = [key for key in ENV_KEYS[:3] if not environ.get(key)]
    if missing:
        raise StoreError(
            f"the dataset is in an object store but {', '.join(missing)} is not set "
            "(the profile's keys and the store's S3 endpoint)"
        )
    return ObjectStore(
        endpoint=environ["AWS_ENDPOINT_URL"],
        access_key=environ["AWS_ACCESS_KEY_ID"],
        secret_key=environ["AWS_SECRET_ACCESS_KEY"],
        region=environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )
