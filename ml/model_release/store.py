"""The stack's object store through the S3 API: where it is, its keys, a boto3 client.

Kubeflow Pipelines keeps its artifacts in the platform's object store (SeaweedFS, service
``seaweedfs`` in 26.03; MinIO, ``minio-service`` in v1.10; both S3 on port 9000); the stack
generates its keys and exports them in its ``credentials`` output. From a laptop, reach it
with a port-forward::

    kubectl port-forward -n kubeflow svc/seaweedfs 9000:9000
    pulumi stack output --json --show-secrets > build/outputs.json
    kfstack release publish --stack-outputs build/outputs.json ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlparse

__all__ = [
    "DEFAULT_ENDPOINT",
    "ObjectStore",
    "StoreError",
    "object_store",
    "s3_client",
    "split_uri",
]

DEFAULT_ENDPOINT: Final = "http://localhost:9000"
#: Keys of the stack's `credentials` output (see infra/kubeflow/credentials.py).
ACCESS_KEY_OUTPUT: Final = "objectStoreAccessKey"
SECRET_KEY_OUTPUT: Final = "objectStoreSecretKey"


class StoreError(RuntimeError):
    """The object store cannot be reached or used; the message says what to give."""


@dataclass(frozen=True)
class ObjectStore:
    """An S3 endpoint and its keys (repr hides the secret key)."""

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"


def _stack_keys(path: Path) -> tuple[str | None, str | None]:
    try:
        outputs: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{path}: stack outputs not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"{path}: not the JSON of `pulumi stack output --json --show-secrets`: {exc}"
        ) from None
    credentials = outputs.get("credentials") if isinstance(outputs, dict) else None
    if not isinstance(credentials, dict):
        raise StoreError(f"{path}: no `credentials` object (was it written with --show-secrets?)")
    access, secret = credentials.get(ACCESS_KEY_OUTPUT), credentials.get(SECRET_KEY_OUTPUT)
    if access == "[secret]" or secret == "[secret]":
        raise StoreError(f"{path}: the keys are masked: write it with --show-secrets")
    return access, secret


def object_store(
    *,
    endpoint: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    stack_outputs: Path | None = None,
    region: str = "us-east-1",
) -> ObjectStore:
    """The store from flags, completed from the stack outputs file.

    Raises:
        StoreError: no keys given or found, or an endpoint that is not an http(s) URL.

    """
    if stack_outputs is not None and not (access_key and secret_key):
        found_access, found_secret = _stack_keys(stack_outputs)
        access_key, secret_key = access_key or found_access, secret_key or found_secret
    if not (access_key and secret_key):
        raise StoreError(
            "no object store keys: give --access-key and --secret-key, or --stack-outputs "
            "FILE from `pulumi stack output --json --show-secrets` (credentials."
            f"{ACCESS_KEY_OUTPUT}, credentials.{SECRET_KEY_OUTPUT})"
        )
    endpoint = endpoint or DEFAULT_ENDPOINT
    if urlparse(endpoint).scheme not in ("http", "https") or not urlparse(endpoint).netloc:
        raise StoreError(f"--s3-endpoint {endpoint!r}: give an http:// or https:// URL")
    return ObjectStore(endpoint.rstrip("/"), str(access_key), str(secret_key), region)


def s3_client(store: ObjectStore) -> Any:
    """A boto3 S3 client for `store`: path-style addressing, fail fast when unreachable."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 1, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=store.endpoint,
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
        region_name=store.region,
        config=config,
    )


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` or ``minio://bucket/key`` -> (bucket, key without slashes around).

    Raises:
        StoreError: another scheme or no bucket.

    """
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "minio") or not parsed.netloc:
        raise StoreError(f"{uri!r}: give s3://BUCKET/PREFIX or minio://BUCKET/PREFIX")
    return parsed.netloc, parsed.path.strip("/")


def describe(exc: Exception) -> str:
    """A short reason for a botocore error (the S3 error code and message when there is one)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)
