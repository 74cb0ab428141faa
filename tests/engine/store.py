"""The object store double inside a control plane's network namespace.

`python -m tests.engine.store --port 9000 --allow KEY=PREFIX,...` runs the gated moto S3
server of `tests/ml/remote/s3_gate.py` (each profile key kept to the prefixes its release's
real `sync.py` allows it) on 127.0.0.1:PORT, creates bucket `mlpipeline`, prints `ready` and
serves until its stdin closes. Each line `keys` on its stdin prints the bucket's object keys
and the requests it denied, as one JSON line: the test process lives outside the namespace
and cannot list them itself. `object_store` starts it in the plane's namespace for a block.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.engine.harness import REPO, ControlPlane
from tests.engine.pods import HOST_ENV

BUCKET = "mlpipeline"
#: Port of the release's in-cluster S3 Services (SeaweedFS on 26.03, MinIO on v1.10).
PORT = 9000


class Store:
    """The running store: what is in its bucket, what it refused."""

    def __init__(self, server: subprocess.Popen[str]) -> None:
        self.server = server

    def listing(self) -> dict[str, list[str]]:
        """{"keys": object keys of the bucket, "denied": requests refused to a profile key}."""
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write("keys\n")
        self.server.stdin.flush()
        found: dict[str, list[str]] = json.loads(self.server.stdout.readline())
        return found


@contextmanager
def object_store(
    plane: ControlPlane, allow: Mapping[str, Sequence[str]], log: Path
) -> Iterator[Store]:
    """Serve the store at 127.0.0.1:9000 of the plane's namespace for the block.

    Its request log goes to `log`.
    """
    command = ["ip", "netns", "exec", plane.netns, str(REPO / ".venv" / "bin" / "python")]
    command += ["-m", "tests.engine.store", "--port", str(PORT)]
    for key, prefixes in allow.items():
        command += ["--allow", f"{key}={','.join(prefixes)}"]
    with log.open("wb") as requests:
        server = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=requests,
            text=True,
            cwd=REPO,
            # Pods reach the store by its Service name, path-style, as SeaweedFS and MinIO
            # answer it; moto would read `seaweedfs` in that host name as a bucket.
            env={**HOST_ENV, "PYTHONPATH": str(REPO), "S3_IGNORE_SUBDOMAIN_BUCKETNAME": "true"},
        )
    assert server.stdout is not None and server.stdin is not None
    line = server.stdout.readline()
    if line.strip() != "ready":
        server.kill()
        raise RuntimeError(f"the object store double did not start: {line!r}")
    try:
        yield Store(server)
    finally:
        server.stdin.close()
        server.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin closes (see the module's text)."""
    import boto3

    from tests.ml.remote.s3_gate import GatedS3

    parser = argparse.ArgumentParser(prog="python -m tests.engine.store")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--allow", action="append", default=[], help="KEY=PREFIX,PREFIX")
    args = parser.parse_args(argv)
    server = GatedS3()
    server._port = args.port  # GatedS3 binds a free port by default; pods expect 9000
    for rule in args.allow:
        key, _, prefixes = rule.partition("=")
        server.allow(key, [p for p in prefixes.split(",") if p])
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{args.port}",
        aws_access_key_id="store-admin",
        aws_secret_access_key="store-admin",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "keys":
            keys = [
                item["Key"]
                for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
                for item in page.get("Contents", [])
            ]
            print(json.dumps({"keys": keys, "denied": server.denied}), flush=True)
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
