"""An in-memory Model Registry on 127.0.0.1 that holds every exchange to the OpenAPI contract.

The double serves the part of the v1alpha3 REST API that kfstack uses, keeps registered
models, versions and model artifacts in memory, and validates every request and every
response against ``model-registry.openapi.yaml`` (v0.3.7) with openapi-core, plus a check that
request bodies carry no property the contract does not declare (the contract itself allows
unknown properties, so a typo such as ``modelFormatname`` would otherwise pass). A request that
breaks the contract is answered 400 and recorded in `RegistryDouble.violations`.

It can also stand in for the Kubernetes API server's service proxy
(``/api/v1/namespaces/<ns>/services/<svc>:<port>/proxy/...``), require a bearer token, and
fail chosen requests with a 4xx/5xx.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
)

from tests.http_double import JsonServer, Request

API = "/api/model_registry/v1alpha3"
CONTRACT_HOST = "http://localhost:8080"  # the contract's declared server
PROXY = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/:]+):([^/]+)/proxy(/.*)$")


@dataclass(frozen=True)
class Exchange:
    """One request the double received (after the service-proxy prefix is removed)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    proxy: tuple[str, str, str] | None
    authorization: str | None


@dataclass
class Failure:
    """A canned error answer for requests matching method and path substring."""

    status: int
    message: str
    method: str | None
    path: str | None
    times: int


class Contract:
    """The OpenAPI contract, loaded once, with request/response/unknown-property checks."""

    def __init__(self, path: Path) -> None:
        self.raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.api = OpenAPI.from_file_path(str(path))
        self._body = V30RequestBodyValidator(self.api.spec)
        self._params = V30RequestParametersValidator(self.api.spec)

    def request_errors(self, request: MockRequest, body: Any) -> list[str]:
        errors = [_describe(e) for e in self._body.iter_errors(request)]
        errors += [_describe(e) for e in self._params.iter_errors(request)]
        if not errors and isinstance(body, dict):
            errors += self._unknown_properties(request, body)
        return errors

    def response_errors(self, request: MockRequest, response: MockResponse) -> list[str]:
        return [_describe(e) for e in self.api.iter_response_errors(request, response)]

    def _unknown_properties(self, request: MockRequest, body: dict[str, Any]) -> list[str]:
        pattern = request.path.replace(API, "", 1)
        for template, item in self.raw["paths"].items():
            if _matches(template.replace(API, "", 1), pattern):
                op = item.get(request.method, {})
                schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                known = self._properties(schema.get("schema", {}), body)
                unknown = sorted(set(body) - known)
                if unknown:
                    return [f"body has properties the contract does not declare: {unknown}"]
        return []

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.raw
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def _properties(self, schema: dict[str, Any], body: dict[str, Any]) -> set[str]:
        schema = self._resolve(schema)
        names = set(schema.get("properties", {}))
        for sub in schema.get("allOf", []):
            names |= self._properties(sub, body)
        disc = schema.get("discriminator")
        if disc and body.get(disc["propertyName"]) in disc.get("mapping", {}):
            names |= self._properties({"$ref": disc["mapping"][body[disc["propertyName"]]]}, body)
        return names


def _matches(template: str, path: str) -> bool:
    regex = re.sub(r"\{[^}]+\}", "[^/]+", template)
    return re.fullmatch(regex, path) is not None


def _describe(error: Exception) -> str:
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None)
    if details:
        return f"{type(error).__name__}: " + "; ".join(sorted({e.message for e in details}))
    return f"{type(error).__name__}: {cause or error!r}"


def _now_ms() -> str:
    return str(int(time.time() * 1000))


Handler = Callable[["RegistryDouble", dict[str, str], dict[str, str], Any], tuple[int, Any]]


class RegistryDouble:
    """A contract-checked, in-memory Model Registry served on 127.0.0.1 at a random port.

    Args:
        contract: The loaded OpenAPI contract.
        token: When set, every request must carry ``Authorization: Bearer <token>``.
        address: Where to listen (the engine tier serves it at the registry pod's IP).

    """

    def __init__(
        self,
        contract: Contract,
        *,
        token: str | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        self.contract = contract
        self.token = token
        self.models: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.version_artifacts: dict[str, list[str]] = {}
        self.exchanges: list[Exchange] = []
        self.violations: list[str] = []
        self._failures: list[Failure] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = JsonServer(self.handle, address=address, protocol="HTTP/1.1")

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:41234``."""
        return self._server.url

    @property
    def api_url(self) -> str:
        """Base URL of the REST API."""
        return self.url + API

    def __enter__(self) -> RegistryDouble:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    # -- test controls ----------------------------------------------------------------------

    def fail(
        self,
        status: int,
        message: str = "injected failure",
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and an Error body."""
        self._failures.append(Failure(status, message, method, path, times))

    def calls(self, method: str | None = None) -> list[tuple[str, str]]:
        """Return (method, path) of each exchange, optionally of one method only."""
        return [(e.method, e.path) for e in self.exchanges if method in (None, e.method)]

    def add_model(self, name: str, **fields: Any) -> dict[str, Any]:
        """Seed a registered model, as if someone else had created it."""
        return self._store(self.models, {"name": name, "state": "LIVE", **fields})

    def add_version(self, model_id: str, name: str, **fields: Any) -> dict[str, Any]:
        """Seed a model version of a registered model."""
        entity = {"name": name, "registeredModelId": model_id, "state": "LIVE", **fields}
        return self._store(self.versions, entity)

    def add_artifact(self, version_id: str, uri: str, **fields: Any) -> dict[str, Any]:
        """Seed a model artifact attached to a version."""
        entity = self._store(
            self.artifacts, {"artifactType": "model-artifact", "uri": uri, **fields}
        )
        self.version_artifacts.setdefault(version_id, []).append(entity["id"])
        return entity

    # -- storage ----------------------------------------------------------------------------

    def _store(self, table: dict[str, dict[str, Any]], entity: dict[str, Any]) -> dict[str, Any]:
        entity = {k: v for k, v in entity.items() if v is not None}
        entity["id"] = str(self._next_id)
        self._next_id += 1
        entity["createTimeSinceEpoch"] = entity["lastUpdateTimeSinceEpoch"] = _now_ms()
        entity.setdefault("customProperties", {})
        table[entity["id"]] = entity
        return entity

    def _patch(self, entity: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        entity.update({k: v for k, v in body.items() if k not in ("id", "name")})
        entity["lastUpdateTimeSinceEpoch"] = _now_ms()
        return entity

    # -- request handling -------------------------------------------------------------------

    def handle(self, http: Request) -> tuple[int, Any]:
        path, proxy = http.path, None
        match = PROXY.match(path)
        if match:
            proxy, path = (match[1], match[2], match[3]), match[4]
        query = dict(parse_qsl(http.query))
        auth = http.headers.get("Authorization")
        request = MockRequest(
            CONTRACT_HOST,
            http.method.lower(),
            path,
            args=query,
            data=http.raw or None,
            content_type=http.headers.get("Content-Type") or "application/json",
        )
        try:
            parsed = http.json()
        except ValueError:
            parsed = None
        with self._lock:
            status, body = self._answer(request, parsed, query, auth)
            status, body = self._check_response(request, status, body)
            self.exchanges.append(Exchange(http.method, path, query, parsed, status, proxy, auth))
        return status, body

    def _answer(
        self, request: MockRequest, body: Any, query: dict[str, str], auth: str | None
    ) -> tuple[int, Any]:
        if self.token is not None and auth != f"Bearer {self.token}":
            return 401, {"code": "unauthorized", "message": "missing or wrong bearer token"}
        errors = self.contract.request_errors(request, body)
        if errors:
            message = f"{request.method.upper()} {request.path}: " + " | ".join(errors)
            self.violations.append(f"request violates the contract: {message}")
            return 400, {"code": "contract-violation", "message": message}
        failure = self._take_failure(request)
        if failure:
            return failure.status, {"code": "injected", "message": failure.message}
        return self._route(request.method.upper(), request.path.removeprefix(API), query, body)

    def _take_failure(self, request: MockRequest) -> Failure | None:
        for failure in self._failures:
            if failure.method not in (None, request.method.upper()):
                continue
            if failure.path is not None and failure.path not in request.path:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    def _check_response(self, request: MockRequest, status: int, body: Any) -> tuple[int, Any]:
        if status == 400 and body.get("code") == "contract-violation":
            return status, body  # the operation may not exist: nothing to check the answer by
        response = MockResponse(json.dumps(body).encode(), status_code=status)
        errors = self.contract.response_errors(request, response)
        if not errors:
            return status, body
        message = f"{request.method.upper()} {request.path} -> {status}: " + " | ".join(errors)
        self.violations.append(f"response violates the contract: {message}")
        return 500, {"code": "double-violation", "message": message}

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        for route_method, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(self, match.groupdict(), query, body)
        self.violations.append(f"the double does not implement {method} {path}")
        return 500, {"code": "not-implemented", "message": f"double: {method} {path}"}

    # -- operations -------------------------------------------------------------------------

    def find_model(self, _: dict[str, str], q: dict[str, str], __: Any) -> tuple[int, Any]:
        found = [m for m in self.models.values() if m["name"] == q.get("name")]
        return (200, found[0]) if found else _not_found("registered model", q.get("name"))

    def create_model(self, _: dict[str, str], __: dict[str, str], body: Any) -> tuple[int, Any]:
        if any(m["name"] == body["name"] for m in self.models.values()):
            return 409, {"code": "conflict", "message": f"model {body['name']!r} exists"}
        return 201, self._store(self.models, {"state": "LIVE", **body})

    def list_versions(self, p: dict[str, str], q: dict[str, str], _: Any) -> tuple[int, Any]:
        if p["id"] not in self.models:
            return _not_found("registered model", p["id"])
        items = [v for v in self.versions.values() if v["registeredModelId"] == p["id"]]
        if "name" in q:
            items = [v for v in items if v["name"] == q["name"]]
        return 200, _page(items, q)

    def find_version(self, _: dict[str, str], q: dict[str, str], __: Any) -> tuple[int, Any]:
        found = [
            v
            for v in self.versions.values()
            if v["name"] == q.get("name")
            and q.get("parentResourceId") in (None, v["registeredModelId"])
        ]
        return (200, found[0]) if found else _not_found("model version", q.get("name"))

    def create_version(self, _: dict[str, str], __: dict[str, str], body: Any) -> tuple[int, Any]:
        parent = body["registeredModelId"]
        if parent not in self.models:
            return 422, {"code": "unprocessable", "message": f"no registered model {parent}"}
        if any(
            v["name"] == body["name"] and v["registeredModelId"] == parent
            for v in self.versions.values()
        ):
            return 409, {"code": "conflict", "message": f"version {body['name']!r} exists"}
        return 201, self._store(self.versions, {"state": "LIVE", **body})

    def list_artifacts(self, p: dict[str, str], q: dict[str, str], _: Any) -> tuple[int, Any]:
        if p["id"] not in self.versions:
            return _not_found("model version", p["id"])
        items = [self.artifacts[i] for i in self.version_artifacts.get(p["id"], [])]
        if "artifactType" in q:
            items = [a for a in items if a["artifactType"] == q["artifactType"]]
        return 200, _page(items, q)

    def upsert_artifact(self, p: dict[str, str], _: dict[str, str], body: Any) -> tuple[int, Any]:
        if p["id"] not in self.versions:
            return _not_found("model version", p["id"])
        attached = self.version_artifacts.setdefault(p["id"], [])
        if body.get("id") in self.artifacts:
            if body["id"] not in attached:
                attached.append(body["id"])
            return 200, self._patch(self.artifacts[body["id"]], body)
        if body.get("name") and any(
            self.artifacts[i].get("name") == body["name"] for i in attached
        ):
            return 409, {"code": "conflict", "message": f"artifact {body['name']!r} exists"}
        artifact = self._store(self.artifacts, {"state": "UNKNOWN", **body})
        attached.append(artifact["id"])
        return 201, artifact


def _not_found(kind: str, key: Any) -> tuple[int, Any]:
    return 404, {"code": "not-found", "message": f"no {kind} found for {key!r}"}


def _by_id(table: str, kind: str, *, patch: bool = False) -> Handler:
    """GET (or PATCH) one entity of a table (`models`, `versions`, `artifacts`) by its id."""

    def answer(double: RegistryDouble, p: dict[str, str], _: dict[str, str], body: Any) -> Any:
        entity = getattr(double, table).get(p["id"])
        if entity is None:
            return _not_found(kind, p["id"])
        return 200, double._patch(entity, body) if patch else entity

    return answer


def _page(items: list[dict[str, Any]], q: dict[str, str]) -> dict[str, Any]:
    size = int(q.get("pageSize") or 100)
    start = int(q.get("nextPageToken") or 0)
    chunk = items[start : start + size]
    token = str(start + size) if start + size < len(items) else ""
    return {"items": chunk, "size": len(chunk), "pageSize": size, "nextPageToken": token}


ID = "(?P<id>[^/]+)"
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/registered_model", RegistryDouble.find_model),
    ("POST", "/registered_models", RegistryDouble.create_model),
    ("GET", f"/registered_models/{ID}", _by_id("models", "registered model")),
    ("PATCH", f"/registered_models/{ID}", _by_id("models", "registered model", patch=True)),
    ("GET", f"/registered_models/{ID}/versions", RegistryDouble.list_versions),
    ("GET", "/model_version", RegistryDouble.find_version),
    ("POST", "/model_versions", RegistryDouble.create_version),
    ("GET", f"/model_versions/{ID}", _by_id("versions", "model version")),
    ("PATCH", f"/model_versions/{ID}", _by_id("versions", "model version", patch=True)),
    ("GET", f"/model_versions/{ID}/artifacts", RegistryDouble.list_artifacts),
    ("POST", f"/model_versions/{ID}/artifacts", RegistryDouble.upsert_artifact),
    ("GET", f"/model_artifacts/{ID}", _by_id("artifacts", "model artifact")),
    ("PATCH", f"/model_artifacts/{ID}", _by_id("artifacts", "model artifact", patch=True)),
]


def serve(contract: Contract, *, token: str | None = None) -> Iterator[RegistryDouble]:
    """Run a double for the duration of a fixture."""
    with RegistryDouble(contract, token=token) as double:
        yield double


__all__ = ["Contract", "Exchange", "RegistryDouble", "serve"]
