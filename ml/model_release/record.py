"""The model release record: what a training run hands to the stack.

A release names one trained model in the TF Serving layout (``<storage_uri>/<serving_version>/``)
together with what the stack needs to register and serve it: its registry name and version,
format, metrics, input schema and the pipeline run that produced it. The record is a JSON
file with a versioned schema (``schema_version``) so that ``infra/`` can refuse records it does
not understand instead of guessing.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import unquote, urlparse

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from kfstack.atomic import write_text_atomic

__all__ = [
    "LOCAL_SCHEME",
    "MODEL_NAME_MAX",
    "MODEL_NAME_PATTERN",
    "SCHEMA_VERSION",
    "STORAGE_SCHEMES",
    "ColumnKind",
    "InputColumn",
    "ModelFormat",
    "ModelRelease",
    "PipelineRun",
    "ReleaseError",
    "load_release",
    "normalise_storage_uri",
    "release_json_schema",
    "write_release",
]

MAX_RECORD_BYTES: Final = 1024 * 1024
"""A release record is a few KB; anything this large is refused unread."""

SCHEMA_VERSION: Final = "kfstack.release/v1"
"""The only release schema this code reads and writes."""

STORAGE_SCHEMES = ("s3", "gs", "pvc", "https")
"""URI schemes KServe's storage initializer can fetch a model from (https: e.g. Azure Blob)."""

LOCAL_SCHEME: Final = "file"
"""A model on this machine, not yet published (`kfstack release publish` uploads it)."""

# A DNS-1035 label (starts with a letter), so the name is valid as a Model Registry name and as
# a KServe InferenceService name. 45 characters leave room for the suffixes KServe and Knative
# append to it (``-predictor``, ``-00001-deployment`` ...) within the 63 of a label.
MODEL_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
MODEL_NAME_MAX = 45
VERSION_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")

ModelName = Annotated[
    str, StringConstraints(pattern=MODEL_NAME_PATTERN, min_length=1, max_length=MODEL_NAME_MAX)
]
VersionName = Annotated[str, StringConstraints(pattern=VERSION_PATTERN, max_length=63)]
ColumnName = Annotated[str, StringConstraints(pattern=COLUMN_PATTERN, max_length=128)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


_UNSAFE_URI = re.compile(r"[\x00-\x20\x7f\\]")


def normalise_storage_uri(uri: str) -> str:
    """Return `uri` parsed and normalised: scheme, bucket/host, clean path, no trailing '/'.

    Refused: a scheme KServe cannot fetch, no bucket/host/claim, credentials
    (``user:pw@``), a query or fragment, whitespace, control characters or backslashes,
    and ``.``/``..`` path segments (also percent-encoded), which would reach outside
    the model's folder. Repeated slashes collapse.

    Raises:
        ValueError: naming the problem (the URI is shown with control characters escaped).

    """
    if _UNSAFE_URI.search(uri):
        raise ValueError(f"{uri!r} holds whitespace, control characters or a backslash")
    parsed = urlparse(uri)
    if parsed.scheme == LOCAL_SCHEME:
        if parsed.netloc or not parsed.path.startswith("/"):
            raise ValueError(f"{uri!r}: a local model is file:///absolute/path")
    elif parsed.scheme not in STORAGE_SCHEMES:
        allowed = ", ".join(f"{s}://" for s in STORAGE_SCHEMES)
        raise ValueError(
            f"scheme of {uri!r} is not one of {allowed} (or file:// for a local model)"
        )
    elif "@" in parsed.netloc:
        raise ValueError("a storage_uri must not carry credentials (user:password@)")
    elif not parsed.hostname:
        raise ValueError(f"{uri!r} has no bucket, host or claim name")
    if parsed.query or parsed.fragment or uri.endswith(("?", "#")):
        raise ValueError(f"{uri!r} must not have a query or fragment")
    segments = [s for s in parsed.path.split("/") if s]
    if any(unquote(s) in (".", "..") or "/" in unquote(s) for s in segments):
        raise ValueError(f"{uri!r} has '.' or '..' path segments (path traversal)")
    path = "/".join(segments)
    return f"{parsed.scheme}://{parsed.netloc}" + (f"/{path}" if path else "")


class ReleaseError(ValueError):
    """A release record that cannot be read: missing, malformed or invalid.

    The message names the file and, for an invalid record, every invalid field path.
    """


class ColumnKind(StrEnum):
    """How the model treats an input column."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputColumn(_Frozen):
    """One named input of the served model (a ``keras.Input`` of the serving signature)."""

    name: ColumnName
    kind: ColumnKind
    dtype: Literal["float32", "float64", "int32", "int64", "string", "bool"]

    @model_validator(mode="after")
    def _kind_matches_dtype(self) -> InputColumn:
        if self.kind is ColumnKind.NUMERIC and self.dtype in ("string", "bool"):
            raise ValueError(f"a numeric column cannot have dtype {self.dtype!r}")
        return self


class ModelFormat(_Frozen):
    """The serialization format of the model, as KServe and the Model Registry name it."""

    name: Literal["tensorflow"] = "tensorflow"
    version: Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)*$")] = "2"


class PipelineRun(_Frozen):
    """The Kubeflow Pipelines run that produced the model."""

    id: NonEmpty
    name: str | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class ModelRelease(_Frozen):
    """A trained model, ready to be registered and served.

    Attributes:
        schema_version: Always ``kfstack.release/v1``.
        name: Registry model name and InferenceService name (DNS-1035 label, <= 45 chars).
        version: Registry version name, e.g. ``"3"`` or ``"2026.11.28-1"``.
        serving_version: The integer TF Serving version directory under ``storage_uri``.
        format: Model format name and version (``tensorflow``, ``"2"``).
        storage_uri: Parent of the version directory (``s3://bucket/models/iris``).
        metrics: Evaluation metrics, finite numbers.
        input_schema: The named inputs of the serving signature, in order.
        pipeline_run: The pipeline run that trained the model, if any.
        created_at: When the release was made (timezone-aware).
        description: Free text, shown in the registry.
        labels: Kubernetes-label-compatible key/value pairs.
        label: The label column the model predicts (header name), if known.
        task: ``classification`` or ``regression``, if known.
        classes: The class names in the order of the ``probabilities`` output
            (classification), if known.

    Records written before ``label``, ``task`` and ``classes`` existed still load: the three
    are optional.
    """

    schema_version: Literal["kfstack.release/v1"] = SCHEMA_VERSION
    name: ModelName
    version: VersionName
    serving_version: Annotated[int, Field(ge=1, strict=True)]
    format: ModelFormat = ModelFormat()
    storage_uri: str
    metrics: dict[Annotated[str, StringConstraints(min_length=1)], float] = {}
    input_schema: Annotated[tuple[InputColumn, ...], Field(min_length=1)]
    pipeline_run: PipelineRun | None = None
    created_at: AwareDatetime
    description: str = ""
    labels: dict[str, str] = {}
    label: str | None = None
    task: Literal["classification", "regression"] | None = None
    classes: tuple[str, ...] | None = None

    @field_validator("storage_uri")
    @classmethod
    def _check_storage_uri(cls, uri: str) -> str:
        uri = normalise_storage_uri(uri)
        parsed = urlparse(uri)
        last = uri.rsplit("/", 1)[-1]
        if parsed.path.strip("/") and last.isdigit():
            raise ValueError(
                f"{uri!r} ends in the version directory {last!r}: "
                "give its parent, KServe appends the version"
            )
        return uri

    @field_validator("metrics")
    @classmethod
    def _check_metrics(cls, metrics: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, v in metrics.items() if not math.isfinite(v))
        if bad:
            raise ValueError(f"metrics must be finite numbers: {', '.join(bad)}")
        return metrics

    @model_validator(mode="after")
    def _classes_match_task(self) -> ModelRelease:
        if self.classes is not None and self.task == "regression":
            raise ValueError("classes are only allowed with task classification")
        if self.classes is not None and len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct: {list(self.classes)}")
        return self

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        problems = [f"key {k!r}" for k in labels if not _LABEL_KEY.match(k)]
        problems += [
            f"value {v!r} of {k!r}" for k, v in labels.items() if not _LABEL_VALUE.match(v)
        ]
        if problems:
            raise ValueError(
                "labels must be valid Kubernetes labels; invalid " + ", ".join(problems)
            )
        return labels

    @field_validator("input_schema")
    @classmethod
    def _unique_columns(cls, columns: tuple[InputColumn, ...]) -> tuple[InputColumn, ...]:
        counts = Counter(c.name for c in columns)
        dupes = sorted(name for name, n in counts.items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate input column names: {', '.join(dupes)}")
        return columns

    @property
    def is_local(self) -> bool:
        """Whether the model is still only on this machine (a ``file://`` storage URI)."""
        return urlparse(self.storage_uri).scheme == LOCAL_SCHEME

    @property
    def version_uri(self) -> str:
        """The URI of the version directory itself (``<storage_uri>/<serving_version>``)."""
        return f"{self.storage_uri}/{self.serving_version}"

    @property
    def registry_uri(self) -> str:
        """The ``model-registry://`` URI that an InferenceService can use as storageUri."""
        return f"model-registry://{self.name}/{self.version}"


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _format_errors(error: ValidationError) -> str:
    lines = [f"  - {_loc(e['loc'])}: {e['msg']}" for e in error.errors()]
    return "\n".join(lines)


def load_release(path: str | os.PathLike[str]) -> ModelRelease:
    """Read and validate a release record.

    Args:
        path: The JSON file written by `write_release` (or by the training pipeline).

    Returns:
        The validated, frozen release.

    Raises:
        ReleaseError: The file is missing or unreadable, is not JSON (with line and column),
            or is not a valid release (with every invalid field path).

    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise ReleaseError(f"{path}: more than {MAX_RECORD_BYTES} bytes; not a release record")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReleaseError(f"{path}: release record not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path}: cannot read release record: {exc}") from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from None
    except RecursionError:
        raise ReleaseError(f"{path}: nested too deeply; not a release record") from None
    if not isinstance(data, dict):
        raise ReleaseError(f"{path}: a release record is a JSON object, not {type(data).__name__}")
    found = data.get("schema_version")
    if found is not None and found != SCHEMA_VERSION:
        raise ReleaseError(
            f"{path}: unsupported schema_version {found!r}; this kfstack reads {SCHEMA_VERSION!r}"
        )
    try:
        return ModelRelease.model_validate(data)
    except ValidationError as exc:
        raise ReleaseError(f"{path}: invalid release record:\n{_format_errors(exc)}") from None


def write_release(release: ModelRelease, path: str | os.PathLike[str]) -> Path:
    """Write a release record as indented JSON, atomically (no half-written file on failure).

    Args:
        release: The release to write.
        path: Destination file; parent directories are created.

    Returns:
        The path written.

    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(release.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    return write_text_atomic(path, text)


def release_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a release record, for tools and CI checks."""
    schema = ModelRelease.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:kfstack:release:v1",
        **schema,
    }
