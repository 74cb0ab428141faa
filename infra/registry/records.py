"""The Model Registry's records as frozen data, its errors and custom properties encoding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

State = Literal["LIVE", "ARCHIVED"]
LIVE: Final = "LIVE"
ARCHIVED: Final = "ARCHIVED"
MODEL_ARTIFACT = "model-artifact"
MetadataScalar = str | float | int | bool


class RegistryError(RuntimeError):
    """A registry call that failed: transport error or a 4xx/5xx answer.

    Attributes:
        method: HTTP method.
        path: Path below the API base URL.
        status: HTTP status, or None when the server was not reached.
        message: The server's message (its ``Error.message``) or the transport error.

    """

    def __init__(self, *, method: str, path: str, status: int | None, message: str) -> None:
        self.method, self.path, self.status, self.message = method, path, status, message
        where = f"{method} {path}"
        what = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"model registry: {where} failed ({what}): {message}")


def encode_custom_properties(values: Mapping[str, MetadataScalar]) -> dict[str, dict[str, Any]]:
    """Encode plain values as the contract's ``MetadataValue`` objects.

    A bool becomes ``MetadataBoolValue``, an int ``MetadataIntValue`` (int64 as a string, as
    the contract says), a float ``MetadataDoubleValue`` and a str ``MetadataStringValue``.
    Pass metrics as floats so that ``1`` is stored as a double.

    Args:
        values: Property name to value.

    Returns:
        The ``customProperties`` object.

    """
    out: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            out[key] = {"metadataType": "MetadataBoolValue", "bool_value": value}
        elif isinstance(value, int):
            out[key] = {"metadataType": "MetadataIntValue", "int_value": str(value)}
        elif isinstance(value, float):
            out[key] = {"metadataType": "MetadataDoubleValue", "double_value": value}
        elif isinstance(value, str):
            out[key] = {"metadataType": "MetadataStringValue", "string_value": value}
        else:
            raise TypeError(f"custom property {key!r}: unsupported type {type(value).__name__}")
    return out


def decode_custom_properties(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Decode ``MetadataValue`` objects to plain values (struct and proto values stay raw)."""
    out: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        kind = value.get("metadataType")
        if kind == "MetadataIntValue":
            out[key] = int(value["int_value"])
        elif kind == "MetadataDoubleValue":
            out[key] = float(value["double_value"])
        elif kind == "MetadataStringValue":
            out[key] = value["string_value"]
        elif kind == "MetadataBoolValue":
            out[key] = bool(value["bool_value"])
        else:
            out[key] = value
    return out


@dataclass(frozen=True, kw_only=True)
class _Record:
    """What every registry record has: id, name, state, description, custom properties."""

    id: str
    name: str
    state: str = LIVE
    description: str = ""
    custom_properties: Mapping[str, Any] = field(default_factory=dict)


def _record_fields(data: Mapping[str, Any], *, state: str = LIVE) -> dict[str, Any]:
    """The `_Record` fields of a response body (`state` when it has none)."""
    return {
        "id": str(data["id"]),
        "name": str(data.get("name", "")),
        "state": str(data.get("state", state)),
        "description": str(data.get("description", "")),
        "custom_properties": dict(data.get("customProperties") or {}),
    }


@dataclass(frozen=True, kw_only=True)
class RegisteredModel(_Record):
    """A registered model (the name that versions belong to)."""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RegisteredModel:
        """Build from a ``RegisteredModel`` response body."""
        return cls(**_record_fields(data))


@dataclass(frozen=True, kw_only=True)
class ModelVersion(_Record):
    """A version of a registered model."""

    registered_model_id: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ModelVersion:
        """Build from a ``ModelVersion`` response body."""
        return cls(
            **_record_fields(data), registered_model_id=str(data.get("registeredModelId", ""))
        )


@dataclass(frozen=True, kw_only=True)
class ModelArtifact(_Record):
    """The stored model files of a version: URI, format, storage access."""

    uri: str
    state: str = "UNKNOWN"
    model_format_name: str = ""
    model_format_version: str = ""
    storage_key: str | None = None
    service_account_name: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ModelArtifact:
        """Build from a ``ModelArtifact`` response body."""
        return cls(
            **_record_fields(data, state="UNKNOWN"),
            uri=str(data.get("uri", "")),
            model_format_name=str(data.get("modelFormatName", "")),
            model_format_version=str(data.get("modelFormatVersion", "")),
            storage_key=data.get("storageKey"),
            service_account_name=data.get("serviceAccountName"),
        )
