"""A KServe v1/v2 predict server on loopback that runs an exported SavedModel in process.

Like KServe's tensorflow runtime (TF Serving), it answers `POST /v1/models/<name>:predict`
with `{"predictions": [...]}` and rejects a whole request with 400 `{"error": ...}` when one
instance is bad. Test knobs: a skew applied to the instances it receives (as a broken
transformer would), a predicate of rows to reject, a fixed status, a bounded sleep, a
required bearer token, and a different behaviour for the canary tag header.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.http_double import JsonServer, Request

Instance = dict[str, Any]

_V1 = re.compile(r"^/v1/models/(?P<model>[^/:]+):predict$")
_V2 = re.compile(r"^/v2/models/(?P<model>[^/]+)/infer$")


@dataclass
class Behaviour:
    """What the server does with a request."""

    skew: Callable[[Instance], Instance] | None = None
    reject: Callable[[Instance], str | None] | None = None
    status: int | None = None
    sleep: float = 0.0
    token: str | None = None
    outputs: tuple[str, ...] | None = None  # the signature's outputs to answer with (all)


@dataclass
class StubServer:
    """The running server: its base URL, behaviours and what it received."""

    url: str
    model: str
    default: Behaviour = field(default_factory=Behaviour)
    canary: Behaviour | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def predict_url(self) -> str:
        return f"{self.url}/v1/models/{self.model}:predict"


class _Model:
    def __init__(self, export_dir: Path) -> None:
        import tensorflow as tf

        self.signature = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
        _, specs = self.signature.structured_input_signature
        self.kinds = {name: spec.dtype for name, spec in specs.items()}
        self.lock = threading.Lock()

    def predict(self, columns: dict[str, list[Any]]) -> dict[str, np.ndarray]:
        """Every named output of the signature, strings decoded (as TF Serving prints them)."""
        import tensorflow as tf

        tensors = {k: tf.constant(columns[k], dtype=dtype) for k, dtype in self.kinds.items()}
        with self.lock:
            outputs = self.signature(**tensors)
        decoded = {}
        for name, tensor in outputs.items():
            values = tensor.numpy()
            if values.dtype.kind in "OS":
                values = np.vectorize(lambda b: b.decode(), otypes=[object])(values)
            decoded[name] = values
        return decoded


def _columns(model: _Model, instances: list[Instance]) -> dict[str, list[Any]]:
    import tensorflow as tf

    columns: dict[str, list[Any]] = {}
    for name, dtype in model.kinds.items():
        values = [row[name] for row in instances]
        if dtype == tf.string and not all(isinstance(v, str) for v in values):
            raise ValueError(f"input {name!r} expects strings")
        if dtype != tf.string and not all(isinstance(v, int | float) for v in values):
            raise ValueError(f"input {name!r} expects numbers")
        columns[name] = values
    return columns


def _answerer(server: StubServer, model: _Model) -> Callable[[Request], tuple[int, Any]]:
    def answer(request: Request) -> tuple[int, Any]:
        behaviour = server.default
        if request.headers.get("Knative-Serving-Tag") == "latest" and server.canary:
            behaviour = server.canary
        body = request.json()
        server.requests.append({"path": request.path, "headers": dict(request.headers)})
        refused = _gate(behaviour, request.headers)
        return refused or _answer(server, model, behaviour, path=request.path, body=body)

    return answer


def _gate(behaviour: Behaviour, headers: Any) -> tuple[int, Any] | None:
    """Sleep, check the token, inject a status: None lets the request through."""
    if behaviour.sleep:
        time.sleep(behaviour.sleep)
    if behaviour.token and headers.get("Authorization") != f"Bearer {behaviour.token}":
        return 401, {"error": "missing or invalid bearer token"}
    if behaviour.status is not None:
        return behaviour.status, {"error": f"injected status {behaviour.status}"}
    return None


def _answer(
    server: StubServer, model: _Model, behaviour: Behaviour, *, path: str, body: Any
) -> tuple[int, Any]:
    v1 = _V1.match(path)
    match = v1 or _V2.match(path)
    if match is None or match.group("model") != server.model:
        return 404, {"error": f"Model not found: {path}"}
    wrong = None if v1 else _wrong_datatypes(model, body["inputs"])
    instances = body["instances"] if v1 else _rows_of(body["inputs"])
    if behaviour.skew is not None:
        instances = [behaviour.skew(dict(row)) for row in instances]
    reasons = [behaviour.reject(row) for row in instances] if behaviour.reject else []
    refused = wrong or next((why for why in reasons if why), None)
    if refused:
        return 400, {"error": refused}
    try:
        outputs = model.predict(_columns(model, instances))
    except ValueError as err:
        return 400, {"error": str(err)}
    shown = {
        k: v for k, v in outputs.items() if behaviour.outputs is None or k in behaviour.outputs
    }
    if v1:
        # TF Serving's row format: one object per row when the signature has several outputs
        if len(shown) == 1:
            return 200, {"predictions": next(iter(shown.values())).tolist()}
        rows = len(next(iter(shown.values())))
        return 200, {
            "predictions": [{k: _plain(v[i]) for k, v in shown.items()} for i in range(rows)]
        }
    return 200, {"outputs": [_tensor(k, v) for k, v in shown.items()]}


def _wrong_datatypes(model: _Model, inputs: list[dict[str, Any]]) -> str | None:
    """A strict v2 server: each input's datatype must be the signature's."""
    expected = {
        k: {"float64": "FP64", "float32": "FP32"}.get(d.name, "BYTES")
        for k, d in model.kinds.items()
    }
    for i in inputs:
        if expected.get(i["name"]) != i["datatype"]:
            return (
                f"input {i['name']!r}: datatype {i['datatype']}, expected {expected.get(i['name'])}"
            )
    return None


def _rows_of(inputs: list[dict[str, Any]]) -> list[Instance]:
    names = [i["name"] for i in inputs]
    rows = zip(*(i["data"] for i in inputs), strict=True)
    return [dict(zip(names, cells, strict=True)) for cells in rows]


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


def _tensor(name: str, values: np.ndarray) -> dict[str, Any]:
    return {
        "name": name,
        "shape": list(values.shape),
        "datatype": "BYTES" if values.dtype.kind == "O" else "FP32",
        "data": values.reshape(-1).tolist(),
    }


@contextmanager
def serve(export_dir: Path, model: str, loaded: Any = None) -> Iterator[StubServer]:
    """Run the stub on 127.0.0.1 (ephemeral port) for the duration of the block."""
    runtime = loaded if loaded is not None else _Model(export_dir)
    state = StubServer(url="", model=model)
    with JsonServer(_answerer(state, runtime), methods=("POST",)) as httpd:
        state.url = httpd.url
        yield state


def load_model(export_dir: Path) -> Any:
    """Load the SavedModel once (share it across servers of a session)."""
    return _Model(export_dir)
