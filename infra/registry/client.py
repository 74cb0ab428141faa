"""A small typed client for the Model Registry REST API (v1alpha3, server v0.3.7).

Only what kfstack needs: registered models, their versions and the versions' model artifacts,
found by name, created, patched and archived. The registry has no DELETE: retiring an entry
means setting its state to ``ARCHIVED``. Every non-2xx answer raises `RegistryError` naming
the method, the path, the status and the server's own message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, TypedDict, TypeVar, Unpack
from urllib.parse import quote

import requests

from infra.registry.records import (
    ARCHIVED,
    LIVE,
    MODEL_ARTIFACT,
    MetadataScalar,
    ModelArtifact,
    ModelVersion,
    RegisteredModel,
    RegistryError,
    State,
    decode_custom_properties,
    encode_custom_properties,
)

_MAX_PAGES = 1000

__all__ = [
    "ARCHIVED",
    "LIVE",
    "MODEL_ARTIFACT",
    "MetadataScalar",
    "ModelArtifact",
    "ModelVersion",
    "RegisteredModel",
    "RegistryClient",
    "RegistryError",
    "decode_custom_properties",
    "encode_custom_properties",
]


_ID = re.compile(r"^[0-9]{1,19}$")


def _id(value: object) -> str:
    """Return a registry id for a URL path: decimal digits only, percent-quoted.

    Ids come back from the registry and from Pulumi state; an id like ``../../x`` would
    otherwise reach any path of the API server with the stack's credentials.

    Raises:
        RegistryError: the id is not a decimal number.

    """
    text = str(value)
    if not _ID.match(text):
        raise RegistryError(
            method="-", path="-", status=None, message=f"registry id {text!r} is not a number"
        )
    return quote(text, safe="")


Record = TypeVar("Record", RegisteredModel, ModelVersion, ModelArtifact)
# Where each kind of record lives in the REST API.
_COLLECTIONS: dict[type, str] = {
    RegisteredModel: "/registered_models",
    ModelVersion: "/model_versions",
    ModelArtifact: "/model_artifacts",
}


def _body(**fields: Any) -> dict[str, Any]:
    """Drop the fields that are None: an absent field is left unchanged by a PATCH."""
    return {k: v for k, v in fields.items() if v is not None}


class Described(TypedDict, total=False):
    """Optional fields of every record (None: unset, or unchanged by a PATCH)."""

    description: str | None
    custom_properties: Mapping[str, Any] | None


class Patch(Described, total=False):
    """What a PATCH of a registered model or a model version may change (None: unchanged)."""

    state: State | None


class VersionOptions(Described, total=False):
    """Optional fields of a new model version."""

    author: str | None


class ArtifactOptions(Described, total=False):
    """Optional fields of a model artifact (None: unset, or unchanged by a PATCH)."""

    storage_key: str | None
    service_account_name: str | None


class ArtifactPatch(ArtifactOptions, total=False):
    """What a PATCH of a model artifact may change (None: unchanged)."""

    uri: str | None
    model_format_name: str | None
    model_format_version: str | None


def _camel_body(**fields: Any) -> dict[str, Any]:
    """`_body` with the API's camelCase names: `storage_key` -> `storageKey`."""
    camel = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in fields.items()}
    return _body(**camel)


class RegistryClient:
    """Typed calls to one Model Registry.

    Args:
        api_url: Base URL of the REST API, ending in ``/api/model_registry/v1alpha3``.
        session: A configured session (see `infra.registry.kubeconfig.open_session`).
        timeout: Seconds to wait for the connection and for each response.
        page_size: Items per page when listing.

    """

    def __init__(
        self,
        api_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        page_size: int = 100,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._page_size = page_size

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        try:
            return self._session.request(
                method,
                self.api_url + path,
                params=params,
                json=body,
                timeout=self._timeout,
                # Passed explicitly: requests lets REQUESTS_CA_BUNDLE override session.verify.
                verify=self._session.verify,
            )
        except requests.Timeout:
            message = f"timed out after {self._timeout}s"
        except requests.RequestException as exc:
            message = f"cannot reach registry: {exc}"
        raise RegistryError(method=method, path=path, status=None, message=message)

    def _json(self, response: requests.Response, method: str, path: str) -> dict[str, Any]:
        if not response.ok:
            raise RegistryError(
                method=method, path=path, status=response.status_code, message=_message(response)
            )
        return dict(response.json())

    def _find(self, path: str, **params: str) -> dict[str, Any] | None:
        """GET that answers None for a 404 (a find or a get of something absent)."""
        response = self._request("GET", path, params=params)
        return None if response.status_code == 404 else self._json(response, "GET", path)

    def _get(self, path: str, **params: str) -> dict[str, Any]:
        return self._json(self._request("GET", path, params=params), "GET", path)

    def _send(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(self._request(method, path, body=body), method, path)

    def _pages(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        token, seen = "", set()
        for _ in range(_MAX_PAGES):
            query = dict(params, pageSize=str(self._page_size))
            if token:
                query["nextPageToken"] = token
            page = self._get(path, **query)
            yield from page.get("items") or []
            token = page.get("nextPageToken") or ""
            if not token or token in seen:
                return
            seen.add(token)

    def get(self, record: type[Record], record_id: str) -> Record | None:
        """Return the registered model, version or artifact with this id, or None."""
        data = self._find(f"{_COLLECTIONS[record]}/{_id(record_id)}")
        return record.from_api(data) if data else None

    # -- registered models -------------------------------------------------------------------

    def find_registered_model(self, name: str) -> RegisteredModel | None:
        """Return the registered model with this name, or None."""
        data = self._find("/registered_model", name=name)
        return RegisteredModel.from_api(data) if data else None

    def create_registered_model(self, name: str, **options: Unpack[Described]) -> RegisteredModel:
        """Create a registered model (names are unique: a duplicate is a 409)."""
        body = _camel_body(name=name, **options)
        return RegisteredModel.from_api(self._send("POST", "/registered_models", body))

    def update_registered_model(self, model_id: str, **patch: Unpack[Patch]) -> RegisteredModel:
        """Patch a registered model; fields left None are unchanged.

        `state=ARCHIVED` archives it: the registry has no DELETE.
        """
        path = f"/registered_models/{_id(model_id)}"
        return RegisteredModel.from_api(self._send("PATCH", path, _camel_body(**patch)))

    # -- model versions ----------------------------------------------------------------------

    def find_model_version(self, name: str, *, registered_model_id: str) -> ModelVersion | None:
        """Return the version with this name within a registered model, or None."""
        data = self._find("/model_version", name=name, parentResourceId=registered_model_id)
        return ModelVersion.from_api(data) if data else None

    def list_model_versions(self, registered_model_id: str) -> list[ModelVersion]:
        """Return every version of a registered model, all pages."""
        path = f"/registered_models/{_id(registered_model_id)}/versions"
        return [ModelVersion.from_api(item) for item in self._pages(path)]

    def create_model_version(
        self, name: str, *, registered_model_id: str, **options: Unpack[VersionOptions]
    ) -> ModelVersion:
        """Create a version of a registered model."""
        body = _camel_body(name=name, registered_model_id=registered_model_id, **options)
        return ModelVersion.from_api(self._send("POST", "/model_versions", body))

    def update_model_version(self, version_id: str, **patch: Unpack[Patch]) -> ModelVersion:
        """Patch a model version; fields left None are unchanged (ARCHIVED: see above)."""
        path = f"/model_versions/{_id(version_id)}"
        return ModelVersion.from_api(self._send("PATCH", path, _camel_body(**patch)))

    # -- model artifacts ---------------------------------------------------------------------

    def list_model_artifacts(self, version_id: str) -> list[ModelArtifact]:
        """Return the model artifacts of a version, all pages."""
        path = f"/model_versions/{_id(version_id)}/artifacts"
        items = self._pages(path, artifactType=MODEL_ARTIFACT)
        return [ModelArtifact.from_api(i) for i in items if i.get("artifactType") == MODEL_ARTIFACT]

    def create_model_artifact(
        self,
        version_id: str,
        *,
        name: str,
        uri: str,
        model_format_name: str,
        model_format_version: str,
        **options: Unpack[ArtifactOptions],
    ) -> ModelArtifact:
        """Create a model artifact and attach it to a version."""
        body = _camel_body(
            artifact_type=MODEL_ARTIFACT,
            name=name,
            uri=uri,
            model_format_name=model_format_name,
            model_format_version=model_format_version,
            state="LIVE",
            **options,
        )
        path = f"/model_versions/{_id(version_id)}/artifacts"
        return ModelArtifact.from_api(self._send("POST", path, body))

    def update_model_artifact(
        self, artifact_id: str, **patch: Unpack[ArtifactPatch]
    ) -> ModelArtifact:
        """Patch a model artifact; fields left None are unchanged."""
        body = _camel_body(artifact_type=MODEL_ARTIFACT, **patch)
        path = f"/model_artifacts/{_id(artifact_id)}"
        return ModelArtifact.from_api(self._send("PATCH", path, body))


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason or "no message"
    if isinstance(data, dict) and data.get("message"):
        code = f" [{data['code']}]" if data.get("code") else ""
        return f"{data['message']}{code}"
    return str(data)[:500]
