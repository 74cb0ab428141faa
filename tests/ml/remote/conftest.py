"""Loopback doubles of the cluster's APIs: KFP v2beta1 (`kfp_double`) and S3 (moto server).

The S3 server takes its rules from the release's own profile controller: `profile` runs
the real `sync.py` of each shared release for a profile namespace, writes what kubectl
would print of its Secret and `kfp-launcher` ConfigMap, and limits its keys on the server
to the prefixes the controller's policy allows them (`s3_gate`).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ml.remote.kfp_double import KfpDouble
from tests.ml.remote.s3_gate import GatedS3
from tests.profile_controller import ProfileGrant, profile_grant

IMAGE = "ghcr.io/kfstack/ml@sha256:" + "ab12" * 16
ACCESS, SECRET = "test-access-key", "test-secret-key"  # the platform's admin keys
NAMESPACE = "kubeflow-user-example-com"
RELEASES = ("26.03", "v1.10.2")


@pytest.fixture
def kfp() -> Iterator[KfpDouble]:
    double = KfpDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[GatedS3]:
    server = GatedS3()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint(s3_server: GatedS3) -> str:
    host, port = s3_server.get_host_and_port()
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class ProfileFile:
    """A profile as the release's controller made it, and its kubectl JSON on disk."""

    grant: ProfileGrant
    path: Path


@pytest.fixture(params=RELEASES)
def profile(
    request: pytest.FixtureRequest, s3_server: GatedS3, tmp_path: Path
) -> Iterator[ProfileFile]:
    """The profile NAMESPACE of each release: its keys limited on the S3 server as on it."""
    grant = profile_grant(request.param, NAMESPACE)
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(grant.as_kubectl_list()), encoding="utf-8")
    s3_server.allow(grant.keys[0], grant.allowed_prefixes)
    s3_server.denied.clear()
    yield ProfileFile(grant, path)
    s3_server.allow(grant.keys[0], None)


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
