"""Loopback doubles of the cluster's APIs: KFP v2beta1 (`kfp_double`) and S3 (moto server)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ml.remote.kfp_double import KfpDouble

IMAGE = "ghcr.io/kfstack/ml@sha256:" + "ab12" * 16
ACCESS, SECRET = "test-access-key", "test-secret-key"


@pytest.fixture
def kfp() -> Iterator[KfpDouble]:
    double = KfpDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Iterator[Any]:
    """A client of the moto server with an empty `mlpipeline` bucket (removed afterwards)."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="mlpipeline")
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="mlpipeline"):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket="mlpipeline", Key=obj["Key"])
    client.delete_bucket(Bucket="mlpipeline")


@pytest.fixture
def closed_port() -> str:
    """A loopback URL nothing listens on (a port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ml.pipelines.image_lock import compile_by_digest

    path, _ = compile_by_digest(tmp_path_factory.mktemp("spec") / "pipeline.yaml", IMAGE)
    return path


def store_args(endpoint: str) -> list[str]:
    return ["--s3-endpoint", endpoint, "--access-key", ACCESS, "--secret-key", SECRET]
