"""KServe's predict protocols as plain data: routes, request bodies, responses, error reasons.

v1 (`POST /v1/models/<name>:predict`, what KServe's tensorflow runtime speaks) takes
`{"instances": [{input: value, ...}, ...]}` and answers `{"predictions": [...]}`, one entry per
row. v2 (`POST /v2/models/<name>/infer`, the Open Inference Protocol) takes one tensor per
input (`{"inputs": [{"name", "shape", "datatype", "data"}]}`) and answers the same way with
`"outputs"`. Nothing here does I/O.

TF Serving (`tensorflow_serving/util/json_tensor.cc`) parses requests with rapidjson's
`kParseNanAndInfFlag`, so a missing number is sent as `NaN`, and prints each float32 output
as text that reads back as the same float32: predictions are kept as float32, so metrics
computed on them are the ones the offline evaluation computed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np

from ml.model import CLASSES, PROBABILITIES, VALUE

Protocol = Literal["v1", "v2"]
PROTOCOLS: tuple[Protocol, ...] = ("v1", "v2")

_V1_PATH = re.compile(r"/v1/models/(?P<model>[^/:]+):predict$")
_V2_PATH = re.compile(r"/v2/models/(?P<model>[^/]+)(?:/versions/[^/]+)?/infer$")
#: How much of a server's error text a report keeps.
REASON_LIMIT = 300
_V2_TYPES = {"FP32": np.float32, "FP64": np.float64, "FP16": np.float32}


class ProtocolError(ValueError):
    """A response that does not follow the protocol (names what was expected)."""


@dataclass(frozen=True)
class Route:
    """Where predictions are asked for: the full predict URL, the model and the protocol."""

    url: str
    model: str
    protocol: Protocol


def predict_path(model: str, protocol: Protocol) -> str:
    """The path of the predict call of `model` in `protocol`."""
    return f"/v1/models/{model}:predict" if protocol == "v1" else f"/v2/models/{model}/infer"


def resolve_route(endpoint: str, *, model: str | None, protocol: Protocol | None) -> Route:
    """Read `--endpoint`: a full predict URL, or a base URL the predict path is appended to.

    Args:
        endpoint: `http(s)://host[:port][/prefix]`, with or without the predict path.
        model: The model name (the release's name); must match one named in the URL.
        protocol: "v1" or "v2"; None takes it from the URL's path, else v1.

    Raises:
        ValueError: not an http(s) URL, or the URL names another model or protocol.

    """
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"--endpoint {endpoint!r} is not an http:// or https:// URL")
    path = parsed.path.rstrip("/")
    for found, pattern in (("v1", _V1_PATH), ("v2", _V2_PATH)):
        match = pattern.search(path)
        if match is None:
            continue
        named = match.group("model")
        if model is not None and named != model:
            raise ValueError(
                f"--endpoint {endpoint!r} serves model {named!r}, but the release record "
                f"names {model!r}: check the route, or pass --model {named}"
            )
        if protocol is not None and protocol != found:
            raise ValueError(f"--endpoint {endpoint!r} is a {found} path, not {protocol}")
        return Route(url=endpoint, model=named, protocol=found)  # type: ignore[arg-type]
    if model is None:
        raise ValueError(f"--endpoint {endpoint!r} names no model: give --model or --release")
    chosen: Protocol = protocol or "v1"
    return Route(
        url=endpoint.rstrip("/") + predict_path(model, chosen), model=model, protocol=chosen
    )


def batches(rows: int, size: int) -> list[range]:
    """Cut `rows` row indices into consecutive batches of at most `size`."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    return [range(start, min(start + size, rows)) for start in range(0, rows, size)]


def _cell(value: Any) -> float | str:
    if isinstance(value, str):
        return value
    return float(value)


#: Open Inference Protocol datatypes of the release record's input dtypes.
V2_DATATYPES = {
    "float32": "FP32",
    "float64": "FP64",
    "int32": "INT32",
    "int64": "INT64",
    "string": "BYTES",
    "bool": "BOOL",
}


def request_body(
    protocol: Protocol,
    features: Mapping[str, np.ndarray],
    rows: Sequence[int],
    *,
    dtypes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON body asking for predictions of `rows` (numbers as JSON numbers, NaN as NaN).

    Args:
        protocol: "v1" or "v2".
        features: The holdout's columns by input name.
        rows: The row indices to send.
        dtypes: Input name -> the release record's dtype (v2 `datatype`); by default FP32
            for numbers and BYTES for text.

    """
    index = np.asarray(rows, dtype=np.int64)
    if protocol == "v1":
        columns = {k: [_cell(v) for v in values[index]] for k, values in features.items()}
        rows_of = zip(*columns.values(), strict=True)
        instances = [dict(zip(columns, cells, strict=True)) for cells in rows_of]
        return {"instances": instances}
    inputs = []
    for name, values in features.items():
        default = "BYTES" if values.dtype.kind in "OUS" else "FP32"
        inputs.append(
            {
                "name": name,
                "shape": [len(index)],
                "datatype": V2_DATATYPES.get((dtypes or {}).get(name, ""), default),
                "data": [_cell(v) for v in values[index]],
            }
        )
    return {"inputs": inputs}


def encode(body: Mapping[str, Any]) -> bytes:
    """Serialize a request body (NaN stays NaN, as TF Serving's JSON reader accepts it)."""
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Answer:
    """A successful response: the numbers per row and, when the model names them, its classes.

    Attributes:
        values: (rows, classes) probabilities, or (rows,) values.
        classes: The class names in output order, from kfstack's `classes` output.

    """

    values: np.ndarray
    classes: tuple[str, ...] | None = None


def parse_response(
    protocol: Protocol, body: Any, rows: int, *, output: str | None = None
) -> Answer:
    """The predictions of a successful response.

    Args:
        protocol: "v1" or "v2".
        body: The decoded JSON body.
        rows: How many rows were sent (the response must have as many).
        output: The output to read when the model has several (None: kfstack's
            `probabilities` or `value`, else the only one).

    Raises:
        ProtocolError: the body is not a response of the protocol, or has another row count.

    """
    answer = _v1_answer(body, output) if protocol == "v1" else _v2_answer(body, output)
    values = answer.values
    if values.ndim == 0 or values.shape[0] != rows:
        got = 0 if values.ndim == 0 else values.shape[0]
        raise ProtocolError(f"the response has {got} predictions for {rows} rows sent")
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    return Answer(values, answer.classes)


def _pick(names: Sequence[str], output: str | None) -> str:
    if output is not None:
        if output not in names:
            raise ProtocolError(f"the response has no output {output!r}; it has {sorted(names)}")
        return output
    numbers = [n for n in (PROBABILITIES, VALUE) if n in names]
    if len(names) != 1 and numbers:
        return numbers[0]
    if len(names) != 1:
        raise ProtocolError(f"the model has outputs {sorted(names)}: choose one with --output")
    return names[0]


def _class_names(first_row: Any) -> tuple[str, ...] | None:
    if isinstance(first_row, list) and first_row and all(isinstance(c, str) for c in first_row):
        return tuple(first_row)
    return None


def _v1_answer(body: Any, output: str | None) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("predictions"), list):
        raise ProtocolError('a v1 response is a JSON object with a "predictions" list')
    predictions = body["predictions"]
    classes = None
    if predictions and all(isinstance(p, dict) for p in predictions):
        name = _pick(list(predictions[0]), output)
        classes = _class_names(predictions[0].get(CLASSES))
        predictions = [p.get(name) for p in predictions]
    try:
        # TF Serving's outputs are float32: keep that precision so metrics match offline ones.
        return Answer(np.asarray(predictions, dtype=np.float32), classes)
    except (TypeError, ValueError) as err:
        raise ProtocolError(f"predictions are not numbers of one shape: {err}") from None


def _tensor(output: dict[str, Any], dtype: Any) -> np.ndarray:
    try:
        data = np.asarray(output["data"], dtype=dtype)
        return data.reshape([int(d) for d in output["shape"]])
    except (KeyError, TypeError, ValueError) as err:
        raise ProtocolError(f"output {output.get('name')!r} is not a tensor: {err}") from None


def _v2_answer(body: Any, output: str | None) -> Answer:
    if not isinstance(body, dict) or not isinstance(body.get("outputs"), list):
        raise ProtocolError('a v2 response is a JSON object with an "outputs" list')
    outputs = {o.get("name"): o for o in body["outputs"] if isinstance(o, dict)}
    chosen = outputs[_pick([str(n) for n in outputs], output)]
    values = _tensor(chosen, _V2_TYPES.get(str(chosen.get("datatype")), np.float64))
    classes = None
    if CLASSES in outputs:
        names = _tensor(outputs[CLASSES], object)
        classes = _class_names(list(names[0])) if names.ndim == 2 and len(names) else None
    return Answer(values, classes)


def error_reason(text: str) -> str:
    """The server's reason for an error response: its `error`/`detail` field, or the text."""
    reason = text.strip()
    try:
        data = json.loads(reason)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            if data.get(key):
                value = data[key]
                reason = value if isinstance(value, str) else json.dumps(value)
                break
    reason = " ".join(reason.split())
    if len(reason) > REASON_LIMIT:
        reason = reason[: REASON_LIMIT - 3] + "..."
    return reason or "(empty response)"
