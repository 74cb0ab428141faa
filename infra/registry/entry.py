"""The registry entry of one model release, as plain functions over a `RegistryClient`.

One entry is a registered model, one of its versions and that version's model artifact.
These functions hold every decision of the Pulumi provider (create or adopt, update, archive,
refresh) so they can be tested against a registry without Pulumi.

Metrics and labels live in the version's ``customProperties`` (metrics as doubles, labels as
strings). Only the keys this entry manages are ever changed or removed: properties that
someone added by hand in the registry UI survive updates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.registry.client import (
    ARCHIVED,
    LIVE,
    ModelArtifact,
    ModelVersion,
    RegisteredModel,
    RegistryClient,
    decode_custom_properties,
    encode_custom_properties,
)

__all__ = [
    "EntryConflictError",
    "EntryIds",
    "EntrySpec",
    "archive_entry",
    "ensure_entry",
    "read_entry",
    "update_entry",
]


class EntryConflictError(RuntimeError):
    """The registry holds something under our names that we must not take over."""


@dataclass(frozen=True)
class EntrySpec:
    """What one registry entry should look like.

    Attributes:
        model_name: Registered model name.
        version_name: Model version name, unique within the model.
        artifact_uri: Storage URI of the model (parent of the TF Serving version directory).
        model_format_name: Format name, ``tensorflow``.
        model_format_version: Format version, e.g. ``"2"``.
        description: Description of the version.
        metrics: Stored as ``MetadataDoubleValue`` custom properties of the version.
        labels: Stored as ``MetadataStringValue`` custom properties of the version.
        storage_key: Name of the storage secret KServe uses to fetch the model.
        service_account_name: Service account with the storage secret.

    """

    model_name: str
    version_name: str
    artifact_uri: str
    model_format_name: str = "tensorflow"
    model_format_version: str = "2"
    description: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    storage_key: str | None = None
    service_account_name: str | None = None

    def __post_init__(self) -> None:
        clash = sorted(set(self.metrics) & set(self.labels))
        if clash:
            raise ValueError(
                f"{self.model_name}/{self.version_name}: metric and label share a name, "
                f"and both are custom properties of the version: {', '.join(clash)}"
            )

    @property
    def registry_uri(self) -> str:
        """The ``model-registry://<model>/<version>`` URI KServe's storage initializer reads."""
        return f"model-registry://{self.model_name}/{self.version_name}"

    @property
    def property_keys(self) -> frozenset[str]:
        """The custom property keys this entry manages."""
        return frozenset(self.metrics) | frozenset(self.labels)

    def custom_properties(self) -> dict[str, dict[str, Any]]:
        """Return metrics and labels encoded as the contract's ``MetadataValue`` objects."""
        values: dict[str, str | float] = {k: float(v) for k, v in self.metrics.items()}
        values.update({k: str(v) for k, v in self.labels.items()})
        return encode_custom_properties(values)


@dataclass(frozen=True)
class EntryIds:
    """Server ids of an entry's three parts."""

    registered_model_id: str
    model_version_id: str
    model_artifact_id: str


def _merged_properties(
    current: Mapping[str, Any], spec: EntrySpec, *, previously: frozenset[str]
) -> dict[str, Any]:
    """Drop the keys we managed before, keep everyone else's, then set ours."""
    kept = {k: v for k, v in current.items() if k not in previously}
    return {**kept, **spec.custom_properties()}


def _create_artifact(client: RegistryClient, version_id: str, spec: EntrySpec) -> ModelArtifact:
    return client.create_model_artifact(
        version_id,
        name=spec.model_name,
        uri=spec.artifact_uri,
        model_format_name=spec.model_format_name,
        model_format_version=spec.model_format_version,
        storage_key=spec.storage_key,
        service_account_name=spec.service_account_name,
    )


def _patch_artifact(
    client: RegistryClient, artifact_id: str, spec: EntrySpec, *, old: EntrySpec | None = None
) -> ModelArtifact:
    # An absent field is left unchanged by a PATCH: send "" to clear a setting we had made.
    def cleared(new: str | None, before: str | None) -> str | None:
        return new if new is not None else ("" if before else None)

    return client.update_model_artifact(
        artifact_id,
        uri=spec.artifact_uri,
        model_format_name=spec.model_format_name,
        model_format_version=spec.model_format_version,
        storage_key=cleared(spec.storage_key, old.storage_key if old else None),
        service_account_name=cleared(
            spec.service_account_name, old.service_account_name if old else None
        ),
    )


def _ensure_model_id(client: RegistryClient, spec: EntrySpec) -> str:
    model = client.find_registered_model(spec.model_name)
    if model is None:
        return client.create_registered_model(spec.model_name).id
    if model.state != LIVE:
        client.update_registered_model(model.id, state=LIVE)
    return model.id


def _adopt_version(client: RegistryClient, version: ModelVersion, spec: EntrySpec) -> str:
    artifacts = client.list_model_artifacts(version.id)
    same = [a for a in artifacts if a.uri == spec.artifact_uri]
    if artifacts and not same:
        uris = ", ".join(sorted({a.uri for a in artifacts}))
        raise EntryConflictError(
            f"model version {spec.model_name}/{spec.version_name} already exists in the registry "
            f"(id {version.id}) with artifact URI {uris}, not {spec.artifact_uri}; "
            "a version name is never reused for other model files: choose a new version name"
        )
    client.update_model_version(
        version.id,
        description=spec.description,
        custom_properties=_merged_properties(
            version.custom_properties, spec, previously=frozenset()
        ),
        state=LIVE,
    )
    if same:
        return _patch_artifact(client, same[0].id, spec).id
    return _create_artifact(client, version.id, spec).id


def ensure_entry(client: RegistryClient, spec: EntrySpec) -> EntryIds:
    """Create the entry, or adopt what the registry already holds under its names.

    An existing registered model is reused (and un-archived). An existing version is adopted
    when its artifact has the same URI (or it has none yet); its description, metrics and
    labels are then brought to the spec.

    Args:
        client: The registry.
        spec: The desired entry.

    Returns:
        The ids of the registered model, the version and the model artifact.

    Raises:
        EntryConflictError: The version exists with an artifact at another URI.
        RegistryError: A registry call failed.

    """
    model_id = _ensure_model_id(client, spec)
    version = client.find_model_version(spec.version_name, registered_model_id=model_id)
    if version is not None:
        artifact_id = _adopt_version(client, version, spec)
        return EntryIds(model_id, version.id, artifact_id)
    version = client.create_model_version(
        spec.version_name,
        registered_model_id=model_id,
        description=spec.description or None,
        custom_properties=spec.custom_properties(),
    )
    artifact = _create_artifact(client, version.id, spec)
    return EntryIds(model_id, version.id, artifact.id)


def update_entry(
    client: RegistryClient, ids: EntryIds, *, old: EntrySpec, new: EntrySpec
) -> EntryIds:
    """Bring an existing entry from ``old`` to ``new`` (same model and version names).

    Args:
        client: The registry.
        ids: The entry's ids.
        old: The spec it was created or last updated with.
        new: The desired spec.

    Returns:
        The ids (the artifact id changes only if the artifact had to be recreated).

    Raises:
        EntryConflictError: The version no longer exists (refresh the stack).
        RegistryError: A registry call failed.

    """
    version = client.get(ModelVersion, ids.model_version_id)
    if version is None:
        raise EntryConflictError(
            f"model version {old.model_name}/{old.version_name} (id {ids.model_version_id}) "
            "is no longer in the registry; run `pulumi refresh` to recreate it"
        )
    client.update_model_version(
        version.id,
        description=new.description,
        custom_properties=_merged_properties(
            version.custom_properties, new, previously=old.property_keys
        ),
        state=LIVE,
    )
    if client.get(ModelArtifact, ids.model_artifact_id) is None:
        artifact_id = _create_artifact(client, version.id, new).id
    else:
        artifact_id = _patch_artifact(client, ids.model_artifact_id, new, old=old).id
    return EntryIds(ids.registered_model_id, version.id, artifact_id)


def archive_entry(client: RegistryClient, ids: EntryIds) -> None:
    """Archive the version and, when no live version remains, the registered model.

    The registry has no DELETE. Parts that are already gone or archived are left alone.

    Args:
        client: The registry.
        ids: The entry's ids.

    """
    version = client.get(ModelVersion, ids.model_version_id)
    if version is not None and version.state != ARCHIVED:
        client.update_model_version(version.id, state=ARCHIVED)
    model = client.get(RegisteredModel, ids.registered_model_id)
    if model is None or model.state == ARCHIVED:
        return
    if all(v.state == ARCHIVED for v in client.list_model_versions(model.id)):
        client.update_registered_model(model.id, state=ARCHIVED)


def read_entry(client: RegistryClient, ids: EntryIds, *, known: EntrySpec) -> EntrySpec | None:
    """Read the entry's live state, or None when its version is gone or archived.

    Only the metric and label keys of ``known`` are read back, so properties added by others
    are not reported as drift.

    Args:
        client: The registry.
        ids: The entry's ids.
        known: The spec in the stack's state.

    Returns:
        The spec as the registry holds it, or None.

    """
    version = client.get(ModelVersion, ids.model_version_id)
    if version is None or version.state == ARCHIVED:
        return None
    model = client.get(RegisteredModel, version.registered_model_id or ids.registered_model_id)
    artifact = client.get(ModelArtifact, ids.model_artifact_id)
    props = decode_custom_properties(version.custom_properties)
    return EntrySpec(
        model_name=model.name if model else known.model_name,
        version_name=version.name,
        artifact_uri=artifact.uri if artifact else "",
        model_format_name=artifact.model_format_name if artifact else "",
        model_format_version=artifact.model_format_version if artifact else "",
        description=version.description,
        metrics={k: props[k] for k in known.metrics if isinstance(props.get(k), float)},
        labels={k: props[k] for k in known.labels if isinstance(props.get(k), str)},
        storage_key=(artifact.storage_key or None) if artifact else None,
        service_account_name=(artifact.service_account_name or None) if artifact else None,
    )
