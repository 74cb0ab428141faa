"""A loopback KFP v2beta1 API for tests: every request body and response checked against the
generated API models of `kfp_server_api` (field names, types, enum values), recursively.

Only what `kfstack pipeline run` and `kfstack release fetch` call is served. A request that
does not fit the models is answered 400 and recorded in `problems`; tests assert it stays
empty. Runs are scripted: `add_run` seeds one, `script` gives the states the next created
run goes through on successive GETs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from kfp_server_api import models

from tests.http_double import JsonServer, Request

_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int, str),  # int64 travels as a JSON string in proto3 JSON
    "float": (int, float),
    "bool": (bool,),
}


def check(data: Any, kind: str, where: str = "$") -> list[str]:
    """Problems of `data` against the model type `kind` (as in `openapi_types`)."""
    if data is None or kind == "object":
        return []
    if kind.startswith(("list[", "dict(")):
        return _check_container(data, kind, where)
    if kind == "datetime":
        try:
            datetime.fromisoformat(str(data).replace("Z", "+00:00"))
        except ValueError:
            return [f"{where}: {data!r} is not an RFC 3339 time"]
        return []
    if kind in _PRIMITIVES:
        ok = isinstance(data, _PRIMITIVES[kind]) and not (kind != "bool" and data is True)
        return [] if ok else [f"{where}: want {kind}, got {data!r}"]
    return _check_model(data, getattr(models, kind), where)


def _check_container(data: Any, kind: str, where: str) -> list[str]:
    if kind.startswith("list["):
        if not isinstance(data, list):
            return [f"{where}: want a list, got {type(data).__name__}"]
        return [p for i, v in enumerate(data) for p in check(v, kind[5:-1], f"{where}[{i}]")]
    inner = kind[kind.index(",") + 1 : -1].strip()  # dict(str, X)
    if not isinstance(data, dict):
        return [f"{where}: want an object, got {type(data).__name__}"]
    return [p for k, v in data.items() for p in check(v, inner, f"{where}.{k}")]


def _check_model(data: Any, model: type, where: str) -> list[str]:
    allowed = getattr(model, "allowable_values", None)
    if allowed is not None:
        return [] if data in allowed else [f"{where}: {data!r} not one of {allowed}"]
    if not isinstance(data, dict):
        return [f"{where}: want a {model.__name__} object, got {type(data).__name__}"]
    by_json = {v: k for k, v in model.attribute_map.items()}  # type: ignore[attr-defined]
    problems = [f"{where}.{k}: not a field of {model.__name__}" for k in data if k not in by_json]
    for key, value in data.items():
        if key in by_json:
            kind = model.openapi_types[by_json[key]]  # type: ignore[attr-defined]
            problems += check(value, kind, f"{where}.{key}")
    return problems


@dataclass
class Run:
    """A run the double serves: its JSON and the states scripted for later GETs."""

    body: dict[str, Any]
    script: list[dict[str, Any]] = field(default_factory=list)


def run_state(state: str, tasks: dict[str, str] | None = None, error: str = "") -> dict[str, Any]:
    """The changing part of a V2beta1Run: state, task details, error."""
    details = [
        {"task_id": f"t{i}", "display_name": name, "state": s}
        for i, (name, s) in enumerate((tasks or {}).items())
    ]
    out: dict[str, Any] = {"state": state, "run_details": {"task_details": details}}
    if error:
        out["error"] = {"code": 2, "message": error}
    return out


class KfpDouble:
    """The loopback server and what it has seen."""

    def __init__(self) -> None:
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, list[dict[str, Any]]] = {}
        self.experiments: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, Run] = {}
        self.script: list[dict[str, Any]] = []
        #: namespace -> may its profile's keys read this object key of `mlpipeline`?
        self.profiles: dict[str, Callable[[str], bool]] = {}
        self.requests: list[tuple[str, str, dict[str, Any] | None, str | None]] = []
        self.problems: list[str] = []
        self.status: int | None = None  # force every answer to this HTTP status
        self.unavailable = 0  # answer this many next requests 503 (a gateway hiccup)
        self._ids = iter(range(1, 10_000))
        self._server = JsonServer(self._serve, methods=("GET", "POST"))

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> KfpDouble:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def add_run(self, run_id: str, state: dict[str, Any]) -> None:
        self.runs[run_id] = Run({"run_id": run_id, "display_name": run_id, **state})

    def calls(self, method: str, pattern: str) -> list[dict[str, Any] | None]:
        return [b for m, p, b, _ in self.requests if m == method and re.fullmatch(pattern, p)]

    def _id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}"

    # -- routing -----------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        routes: list[tuple[str, str, str | None, str, Any]] = [
            ("GET", r"/apis/v2beta1/pipelines", None, "V2beta1ListPipelinesResponse", self._pipes),
            ("POST", r"/apis/v2beta1/pipelines", "V2beta1Pipeline", "V2beta1Pipeline", self._pipe),
            (
                "GET",
                r"/apis/v2beta1/pipelines/([^/]+)/versions",
                None,
                "V2beta1ListPipelineVersionsResponse",
                self._versions_of,
            ),
            (
                "POST",
                r"/apis/v2beta1/pipelines/([^/]+)/versions",
                "V2beta1PipelineVersion",
                "V2beta1PipelineVersion",
                self._version,
            ),
            (
                "GET",
                r"/apis/v2beta1/experiments",
                None,
                "V2beta1ListExperimentsResponse",
                self._exps,
            ),
            (
                "POST",
                r"/apis/v2beta1/experiments",
                "V2beta1Experiment",
                "V2beta1Experiment",
                self._exp,
            ),
            ("POST", r"/apis/v2beta1/runs", "V2beta1Run", "V2beta1Run", self._create_run),
            ("GET", r"/apis/v2beta1/runs/([^/]+)", None, "V2beta1Run", self._get_run),
        ]
        for verb, pattern, request_model, response_model, handler in routes:
            found = re.fullmatch(pattern, path)
            if verb != method or not found:
                continue
            if request_model is not None:
                self._expect(check(body, request_model, f"{method} {path}"))
            if "filter" in query:
                self._expect(check(json.loads(query["filter"][0]), "V2beta1Filter", "?filter"))
            status, out = handler(body, query, *found.groups())
            if status == 200:
                self._expect(check(out, response_model, f"response {method} {path}"))
            return status, out
        self.problems.append(f"no such endpoint: {method} {path}")
        return 404, {"code": 5, "message": f"{path} not found"}

    def _expect(self, problems: list[str]) -> None:
        if problems:
            self.problems += problems
            raise ValueError("; ".join(problems))

    @staticmethod
    def _named(items: Iterator[dict[str, Any]], query: dict[str, list[str]]) -> list[Any]:
        predicates = json.loads(query.get("filter", ['{"predicates": []}'])[0])["predicates"]
        wanted = {p["key"]: p["string_value"] for p in predicates}
        return [i for i in items if all(i.get(k) == v for k, v in wanted.items())]

    def _pipes(self, _body: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        found = self._named(iter(self.pipelines.values()), query)
        return 200, {"pipelines": found, "total_size": len(found)}

    def _pipe(self, body: dict[str, Any], _q: Any) -> tuple[int, Any]:
        if not body.get("display_name"):
            self._expect(["POST pipelines: display_name is required"])
        pipeline = {
            **body,
            "pipeline_id": self._id("pipeline"),
            "created_at": "2026-11-29T00:00:00Z",
        }
        self.pipelines[pipeline["pipeline_id"]] = pipeline
        self.versions[pipeline["pipeline_id"]] = []
        return 200, pipeline

    def _versions_of(self, _body: Any, query: dict[str, list[str]], pid: str) -> tuple[int, Any]:
        if pid not in self.versions:
            return 404, {"code": 5, "message": f"pipeline {pid} not found"}
        found = self._named(iter(self.versions[pid]), query)
        return 200, {"pipeline_versions": found, "total_size": len(found)}

    def _version(self, body: dict[str, Any], _q: Any, pid: str) -> tuple[int, Any]:
        if body.get("pipeline_id") != pid or not body.get("pipeline_spec"):
            self._expect(["POST versions: pipeline_id of the path and pipeline_spec required"])
        version = {**body, "pipeline_version_id": self._id("version")}
        self.versions[pid].append(version)
        return 200, version

    def _exps(self, _body: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        found = self._named(iter(self.experiments.values()), query)
        return 200, {"experiments": found, "total_size": len(found)}

    def _exp(self, body: dict[str, Any], _q: Any) -> tuple[int, Any]:
        experiment = {**body, "experiment_id": self._id("experiment")}
        self.experiments[experiment["experiment_id"]] = experiment
        return 200, experiment

    def _create_run(self, body: dict[str, Any], _q: Any) -> tuple[int, Any]:
        ref = body.get("pipeline_version_reference") or {}
        version_ids = {v["pipeline_version_id"] for vs in self.versions.values() for v in vs}
        if ref.get("pipeline_version_id") not in version_ids or not body.get("display_name"):
            self._expect(["POST runs: display_name and a known pipeline version are required"])
        run_id = self._id("run")
        script = self._import_refused(body) or list(self.script)
        self.runs[run_id] = Run({**body, "run_id": run_id, "state": "PENDING"}, script)
        return 200, self.runs[run_id].body

    def _import_refused(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The run's end when its launcher may not read the CSV with the profile's keys.

        KFP's launcher imports `csv_uri` with the namespace's `mlpipeline-minio-artifact`
        keys; outside their policy the object store answers AccessDenied and the run fails.
        """
        experiment = self.experiments.get(str(body.get("experiment_id")), {})
        may_read = self.profiles.get(str(experiment.get("namespace")))
        uri = str((body.get("runtime_config") or {}).get("parameters", {}).get("csv_uri", ""))
        bucket, _, key = uri.partition("://")[2].partition("/")
        if may_read is None or (bucket == "mlpipeline" and may_read(key)):
            return []
        error = f"importer: failed to read {uri}: AccessDenied: Access Denied"
        return [run_state("FAILED", {"data preparation": "FAILED"}, error=error)]

    def _get_run(self, _body: Any, _q: Any, run_id: str) -> tuple[int, Any]:
        run = self.runs.get(run_id)
        if run is None:
            return 404, {"code": 5, "message": f"run {run_id} not found"}
        if run.script:
            run.body.update(run.script.pop(0))
        return 200, run.body

    def _serve(self, request: Request) -> tuple[int, Any]:
        body = request.json()
        auth = request.headers.get("Authorization")
        self.requests.append((request.method, request.path, body, auth))
        try:
            if self.unavailable:
                self.unavailable -= 1
                status, out = 503, {"code": 14, "message": "upstream connect error"}
            elif self.status is not None:
                status, out = self.status, {"code": 16, "message": "denied by test"}
            else:
                status, out = self.answer(
                    request.method, request.path, parse_qs(request.query), body
                )
        except ValueError as err:
            status, out = 400, {"code": 3, "message": str(err)}
        if status != 200:
            self._expect(check(out, "GoogleRpcStatus", "error response"))
        return status, out
