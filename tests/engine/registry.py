"""The Model Registry for the engine tier: the contract double, where the registry pod would be.

kwok gives the registry's pod an IP that leads nowhere, so the API server's service proxy
(the way kfstack reaches the registry) cannot connect. Inside the control plane's network
namespace, a `local` route makes every pod IP of kwok's range this host, and the contract
double (tests/unit/registry/double.py: every exchange checked against the v0.3.7 OpenAPI)
listens on the registry's container port. The serving `up` then registers its model through
the real API server, as on a cluster.

Run as `python -m tests.engine.registry --port 8080` inside the namespace (the fixture does).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tests.conftest import MODEL_REGISTRY_OPENAPI
from tests.engine.harness import REPO, ControlPlane
from tests.unit.registry.double import Contract, RegistryDouble

#: kwok's pod range (scripts/engine-cluster `--cidr`) and the registry's container port.
POD_CIDR = "10.244.0.0/16"
REGISTRY_PORT = 8080
PROXY = "/api/v1/namespaces/kubeflow/services/model-registry-service:8080/proxy"


def main(argv: list[str] | None = None) -> int:
    """Serve the double on 0.0.0.0:PORT until terminated; print contract violations on exit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=REGISTRY_PORT)
    args = parser.parse_args(argv)
    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    with RegistryDouble(Contract(MODEL_REGISTRY_OPENAPI), address=("0.0.0.0", args.port)) as reg:
        print("ready", flush=True)
        while not stop:
            time.sleep(0.2)
        for violation in reg.violations:
            print(f"violation: {violation}", file=sys.stderr, flush=True)
    return 0


@contextmanager
def fake_registry(plane: ControlPlane, env: Mapping[str, str]) -> Iterator[None]:
    """Serve the registry double at every pod IP of the namespace, for the block."""
    route = plane.exec(["ip", "route", "replace", "local", POD_CIDR, "dev", "lo"], env=env)
    if route.returncode != 0:
        raise RuntimeError(f"cannot route the pod range to loopback: {route.stderr}")
    server = subprocess.Popen(
        ["ip", "netns", "exec", plane.netns, sys.executable, "-m", "tests.engine.registry"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the registry double did not start: {server.stderr.read()}")
        yield
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        violations = [line for line in errors.splitlines() if line.startswith("violation:")]
        assert violations == [], violations


if __name__ == "__main__":
    raise SystemExit(main())
