"""The rollout check: KServe's statuses judged, waited on, and read through the API server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import yaml

from infra.components import rollout_provider
from infra.serving.inference import inference_service
from infra.serving.rollout import (
    DIGEST_ANNOTATION,
    RolloutError,
    await_rollout,
    rollout,
    seconds,
    spec_digest,
)
from tests.serving_fixtures import make_release, serving_options

DIGEST = "abc"


def _isvc(*, ready: str = "True", digest: str = DIGEST, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"generation": 2, "annotations": {DIGEST_ANNOTATION: digest}},
        "status": {
            "observedGeneration": status.pop("observed", 2),
            "conditions": [
                {"type": "Ready", "status": ready, "reason": "RevisionMissing", "message": "m"}
            ],
            **status,
        },
    }


FAILED_LOAD = {
    "transitionStatus": "BlockedByFailedLoad",
    "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "no such key models/iris/1"},
}


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        (None, ("waiting", "not created yet")),
        (_isvc(digest="old"), ("waiting", "this spec is not applied yet")),
        (_isvc(observed=1), ("waiting", "KServe has not observed generation 2 yet")),
        (_isvc(ready="False"), ("waiting", "Ready=False (RevisionMissing: m)")),
        (_isvc(ready="False", modelStatus=FAILED_LOAD), ("failed", "BlockedByFailedLoad (")),
        (_isvc(), ("ready", "Ready")),
    ],
)
def test_rollout_states(observed: dict[str, Any] | None, expected: tuple[str, str]) -> None:
    seen = rollout(observed, DIGEST)
    assert seen.state == expected[0]
    assert seen.detail.startswith(expected[1])


def test_a_terminal_failure_raises_at_once_with_kserves_reason() -> None:
    answers = iter([None, _isvc(ready="False"), _isvc(ready="False", modelStatus=FAILED_LOAD)])
    sleeps: list[float] = []
    with pytest.raises(RolloutError, match="ModelLoadFailed: no such key models/iris/1"):
        await_rollout(
            lambda: next(answers),
            DIGEST,
            what="InferenceService ns/iris",
            timeout_s=900,
            clock=lambda: 0.0,
            sleep=sleeps.append,
        )
    assert sleeps == [5.0, 5.0]


def test_the_timeout_names_the_last_reason() -> None:
    ticks = iter([0.0, 10.0, 20.0, 31.0])
    with pytest.raises(RolloutError, match=r"not Ready after 30s .*RevisionMissing: m"):
        await_rollout(
            lambda: _isvc(ready="False"),
            DIGEST,
            what="InferenceService ns/iris",
            timeout_s=30,
            clock=lambda: next(ticks),
            sleep=lambda _: None,
        )


def test_ready_returns() -> None:
    await_rollout(_isvc, DIGEST, what="x", timeout_s=1, sleep=lambda _: None)


def test_durations_and_digest() -> None:
    assert (seconds("90s"), seconds("15m"), seconds("1h")) == (90, 900, 3600)
    with pytest.raises(ValueError, match="like 900s"):
        seconds("15 minutes")
    manifest = inference_service(make_release(), serving_options("ns"))
    annotations = manifest["metadata"]["annotations"]
    assert annotations[DIGEST_ANNOTATION] == spec_digest(manifest)
    other = inference_service(make_release(), serving_options("ns", cpu="2"))
    assert other["metadata"]["annotations"][DIGEST_ANNOTATION] != annotations[DIGEST_ANNOTATION]


class _ApiServer(BaseHTTPRequestHandler):
    body: dict[str, Any] | None = None
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if type(self).body is None:
            self.send_response(404)
            self.end_headers()
            return
        payload = json.dumps(type(self).body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def api_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _ApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ApiServer.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _kubeconfig(server: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": server}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "c",
            "users": [{"name": "u", "user": {"token": "t0k"}}],
        }
    )


def test_the_provider_reads_the_inference_service_through_the_api_server(api_server: str) -> None:
    props = {
        "kubeconfig": _kubeconfig(api_server),
        "namespace": "ds",
        "name": "iris",
        "digest": DIGEST,
        "timeout": "1m",
    }
    _ApiServer.body = None
    assert rollout_provider.fetch_inference_service(props) is None
    _ApiServer.body = _isvc(ready="False", modelStatus=FAILED_LOAD)
    with pytest.raises(RolloutError, match="InferenceService ds/iris failed to roll out"):
        rollout_provider.RolloutProvider().create(props)
    path, auth = _ApiServer.seen[-1]
    assert path == "/apis/serving.kserve.io/v1beta1/namespaces/ds/inferenceservices/iris"
    assert auth == "Bearer t0k"
    _ApiServer.body = _isvc()
    created = rollout_provider.RolloutProvider().create(props)
    assert created.id == "ds/iris"
    diff = rollout_provider.RolloutProvider().diff("ds/iris", props, {**props, "digest": "new"})
    assert diff.changes


def test_ready_timeout_is_checked_with_the_stack_config() -> None:
    from infra.config import ConfigError, parse_settings

    raw = {"kfstack:serving": json.dumps({"releaseRecord": "r.json", "readyTimeout": "soon"})}
    with pytest.raises(ConfigError, match=r"kfstack:serving\.readyTimeout"):
        parse_settings(raw, stack="dev", require_secrets=False)
    raw = {"kfstack:serving": json.dumps({"releaseRecord": "r.json", "readyTimeout": "40m"})}
    settings = parse_settings(raw, stack="dev", require_secrets=False)
    assert settings.serving is not None and settings.serving.ready_timeout == "40m"


def test_stacks_made_before_the_move_still_find_the_provider() -> None:
    """State holds the provider pickled by reference to its old module; that name resolves."""
    import importlib

    old = importlib.import_module("infra.serving.rollout_provider")
    assert old.RolloutProvider is rollout_provider.RolloutProvider
    with pytest.raises(AttributeError):
        _ = old.Nothing
