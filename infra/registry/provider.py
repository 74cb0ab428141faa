"""The Model Registry entry as a Pulumi resource: a dynamic provider and its resource class.

`ModelRegistryProvider` is a thin shell over `infra.registry.entry`: it turns Pulumi property
bags into an `EntrySpec` and a `RegistryClient`, and results back into outputs. It is a
module-level class of an installed package, so dill pickles it by reference and the Pulumi
program stays free of inlined code.

The registry is reached through the Kubernetes API server's service proxy with the stack's
kubeconfig (a secret), or directly at ``base_url`` (port-forward, tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import pulumi
import pulumi.dynamic as dyn
from pulumi.runtime.rpc import UNKNOWN

from infra.registry.client import RegistryClient
from infra.registry.entry import (
    EntryIds,
    EntrySpec,
    archive_entry,
    ensure_entry,
    read_entry,
    update_entry,
)
from infra.registry.kubeconfig import (
    DEFAULT_NAMESPACE,
    DEFAULT_PORT,
    DEFAULT_SERVICE,
    RegistryEndpoint,
    direct_endpoint,
    endpoint_from_kubeconfig,
    open_session,
)
from ml.model_release import MODEL_NAME_MAX, MODEL_NAME_PATTERN, ModelRelease

__all__ = [
    "CONNECTION_KEYS",
    "OUTPUT_KEYS",
    "REPLACE_KEYS",
    "UPDATE_KEYS",
    "ModelRegistryEntry",
    "ModelRegistryEntryArgs",
    "ModelRegistryProvider",
    "RegistryConnectionArgs",
]

REPLACE_KEYS = ("model_name", "version_name")
"""A new model or version name is a new entry: replace (create the new one, archive the old)."""
UPDATE_KEYS = (
    "artifact_uri",
    "model_format_name",
    "model_format_version",
    "description",
    "metrics",
    "labels",
    "storage_key",
    "service_account_name",
)
"""Patched in place."""
CONNECTION_KEYS = ("kubeconfig", "context", "base_url", "namespace", "service", "port", "timeout")
"""How the registry is reached: an update of the stored state only, nothing in the registry."""
OUTPUT_KEYS = ("registered_model_id", "model_version_id", "model_artifact_id", "model_registry_uri")


def _get(props: Mapping[str, Any], key: str) -> Any:
    """A property, or the Args' default when it is unset (state written by an older version)."""
    value = props.get(key)
    return _DEFAULTS.get(key) if value is None else value


def spec_from_props(props: Mapping[str, Any]) -> EntrySpec:
    """Build the entry spec from a resource's property bag."""
    return EntrySpec(
        model_name=str(props["model_name"]),
        version_name=str(props["version_name"]),
        artifact_uri=str(props["artifact_uri"]),
        model_format_name=str(_get(props, "model_format_name")),
        model_format_version=str(_get(props, "model_format_version")),
        description=str(_get(props, "description")),
        metrics={str(k): float(v) for k, v in _get(props, "metrics").items()},
        labels={str(k): str(v) for k, v in _get(props, "labels").items()},
        storage_key=props.get("storage_key") or None,
        service_account_name=props.get("service_account_name") or None,
    )


def endpoint_from_props(props: Mapping[str, Any]) -> RegistryEndpoint:
    """Resolve the registry endpoint: the kubeconfig's service proxy, or ``base_url``."""
    if props.get("base_url"):
        return direct_endpoint(str(props["base_url"]))
    if not props.get("kubeconfig"):
        raise ValueError("model registry connection needs a kubeconfig or a base_url")
    port = _get(props, "port")
    return endpoint_from_kubeconfig(
        str(props["kubeconfig"]),
        context=props.get("context") or None,
        namespace=str(_get(props, "namespace")),
        service=str(_get(props, "service")),
        # Numbers cross the provider boundary as floats: 8080.0 must become 8080.
        port=int(port) if isinstance(port, float) else port,
    )


@contextmanager
def registry_client(props: Mapping[str, Any]) -> Iterator[RegistryClient]:
    """Open a client for the registry the property bag names; temp cert files are removed."""
    endpoint = endpoint_from_props(props)
    with open_session(endpoint) as session:
        yield RegistryClient(
            endpoint.api_url, session=session, timeout=float(_get(props, "timeout"))
        )


def _ids(props: Mapping[str, Any]) -> EntryIds:
    return EntryIds(
        registered_model_id=str(props.get("registered_model_id") or ""),
        model_version_id=str(props.get("model_version_id") or ""),
        model_artifact_id=str(props.get("model_artifact_id") or ""),
    )


def _outputs(props: Mapping[str, Any], ids: EntryIds, spec: EntrySpec) -> dict[str, Any]:
    inputs = {k: v for k, v in props.items() if k not in OUTPUT_KEYS and k != "__provider"}
    return {
        **inputs,
        "registered_model_id": ids.registered_model_id,
        "model_version_id": ids.model_version_id,
        "model_artifact_id": ids.model_artifact_id,
        "model_registry_uri": spec.registry_uri,
    }


def _check_failures(news: Mapping[str, Any]) -> list[dyn.CheckFailure]:
    # In a preview, values computed by other resources arrive as rpc.UNKNOWN: not checkable.
    failures = [
        dyn.CheckFailure(key, f"{key} is required")
        for key in ("model_name", "version_name", "artifact_uri")
        if not news.get(key)
    ]
    if not news.get("kubeconfig") and not news.get("base_url"):
        failures.append(dyn.CheckFailure("kubeconfig", "give a kubeconfig or a base_url"))
    name = news.get("model_name")
    if isinstance(name, str) and name not in ("", UNKNOWN) and not _is_model_name(name):
        failures.append(
            dyn.CheckFailure("model_name", f"{name!r} is not a DNS-1035 label (<= 45 chars)")
        )
    metrics, labels = news.get("metrics"), news.get("labels")
    if isinstance(metrics, dict) and isinstance(labels, dict) and set(metrics) & set(labels):
        clash = sorted(set(metrics) & set(labels))
        failures.append(dyn.CheckFailure("labels", f"label keys used as metrics too: {clash}"))
    return failures


def _is_model_name(name: str) -> bool:
    return len(name) <= MODEL_NAME_MAX and re.fullmatch(MODEL_NAME_PATTERN, name) is not None


class ModelRegistryProvider(dyn.ResourceProvider):
    """Dynamic provider of one Model Registry entry (registered model, version, artifact).

    The resource id is the model version id. Deleting archives (the registry has no DELETE).
    """

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dyn.CheckResult:
        """Reject missing names, a missing connection and bad model names before any call."""
        return dyn.CheckResult(news, _check_failures(news))

    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        """Create the entry, or adopt a matching one (see `ensure_entry`)."""
        spec = spec_from_props(props)
        with registry_client(props) as client:
            ids = ensure_entry(client, spec)
        return dyn.CreateResult(id_=ids.model_version_id, outs=_outputs(props, ids, spec))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        """Report a new model or version name as a replacement, anything else as an update."""
        changed = [
            k
            for k in (*REPLACE_KEYS, *UPDATE_KEYS, *CONNECTION_KEYS)
            if _get(olds, k) != _get(news, k)
        ]
        replaces = [k for k in changed if k in REPLACE_KEYS]
        return dyn.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=list(OUTPUT_KEYS) if not replaces else [],
            delete_before_replace=False,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        """Patch description, metrics, labels, artifact URI, format and storage settings."""
        old, new = spec_from_props(olds), spec_from_props(news)
        ids = _ids(olds)
        if any(_get(olds, k) != _get(news, k) for k in UPDATE_KEYS):
            with registry_client(news) as client:
                ids = update_entry(client, ids, old=old, new=new)
        return dyn.UpdateResult(outs=_outputs(news, ids, new))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Archive the version, and the registered model when no live version remains."""
        with registry_client(props) as client:
            archive_entry(client, _ids(props))

    def read(self, id_: str, props: dict[str, Any]) -> dyn.ReadResult:
        """Refresh from the registry; an archived or vanished version reads as gone."""
        known = spec_from_props(props)
        ids = _ids(props)
        with registry_client(props) as client:
            live = read_entry(client, ids, known=known)
        if live is None:
            return dyn.ReadResult(None, {})
        refreshed = {
            **props,
            "model_name": live.model_name,
            "version_name": live.version_name,
            "artifact_uri": live.artifact_uri,
            "model_format_name": live.model_format_name,
            "model_format_version": live.model_format_version,
            "description": live.description,
            "metrics": dict(live.metrics),
            "labels": dict(live.labels),
            "storage_key": live.storage_key,
            "service_account_name": live.service_account_name,
        }
        return dyn.ReadResult(id_, _outputs(refreshed, ids, live))


@dataclass(frozen=True)
class RegistryConnectionArgs:
    """How `ModelRegistryEntry` reaches the registry.

    Give ``kubeconfig`` (reached through the API server's service proxy, with the context's
    credentials) or ``base_url`` (reached directly, e.g. a port-forward).

    Attributes:
        kubeconfig: Kubeconfig YAML text; stored as a secret.
        context: Kubeconfig context; its current-context when None.
        base_url: Registry root URL, instead of a kubeconfig.
        namespace: Namespace of the registry Service.
        service: Name of the registry Service.
        port: Port (number or name) of the registry Service.
        timeout: Seconds to wait for each registry call.

    """

    kubeconfig: pulumi.Input[str] | None = None
    context: pulumi.Input[str] | None = None
    base_url: pulumi.Input[str] | None = None
    namespace: pulumi.Input[str] = DEFAULT_NAMESPACE
    service: pulumi.Input[str] = DEFAULT_SERVICE
    port: pulumi.Input[int] = DEFAULT_PORT
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if (self.kubeconfig is None) == (self.base_url is None):
            raise ValueError("RegistryConnectionArgs: give exactly one of kubeconfig or base_url")


@dataclass(frozen=True)
class ModelRegistryEntryArgs:
    """Inputs of `ModelRegistryEntry`.

    Attributes:
        connection: How to reach the registry.
        model_name: Registered model name (a DNS-1035 label, <= 45 characters).
        version_name: Version name; a new one replaces the entry.
        artifact_uri: Storage URI of the model (parent of the TF Serving version directory).
        model_format_name: Model format, ``tensorflow``.
        model_format_version: Model format version.
        description: Description of the version.
        metrics: Evaluation metrics, stored as double custom properties.
        labels: Labels, stored as string custom properties.
        storage_key: Storage secret name for KServe, if any.
        service_account_name: Service account with the storage secret, if any.

    """

    connection: RegistryConnectionArgs
    model_name: pulumi.Input[str]
    version_name: pulumi.Input[str]
    artifact_uri: pulumi.Input[str]
    model_format_name: pulumi.Input[str] = "tensorflow"
    model_format_version: pulumi.Input[str] = "2"
    description: pulumi.Input[str] = ""
    metrics: pulumi.Input[Mapping[str, pulumi.Input[float]]] = field(default_factory=dict)
    labels: pulumi.Input[Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)
    storage_key: pulumi.Input[str] | None = None
    service_account_name: pulumi.Input[str] | None = None

    @classmethod
    def from_release(
        cls,
        release: ModelRelease,
        *,
        connection: RegistryConnectionArgs,
        storage_key: pulumi.Input[str] | None = None,
        service_account_name: pulumi.Input[str] | None = None,
    ) -> ModelRegistryEntryArgs:
        """Build the args from a release record (``ml.model_release.record``)."""
        return cls(
            connection=connection,
            model_name=release.name,
            version_name=release.version,
            artifact_uri=release.storage_uri,
            model_format_name=release.format.name,
            model_format_version=release.format.version,
            description=release.description,
            metrics=dict(release.metrics),
            labels=dict(release.labels),
            storage_key=storage_key,
            service_account_name=service_account_name,
        )

    def props(self) -> dict[str, Any]:
        """Return the provider's property bag; the kubeconfig is wrapped as a secret."""
        conn = self.connection
        kubeconfig = pulumi.Output.secret(conn.kubeconfig) if conn.kubeconfig is not None else None
        return {
            "kubeconfig": kubeconfig,
            "context": conn.context,
            "base_url": conn.base_url,
            "namespace": conn.namespace,
            "service": conn.service,
            "port": conn.port,
            "timeout": conn.timeout,
            "model_name": self.model_name,
            "version_name": self.version_name,
            "artifact_uri": self.artifact_uri,
            "model_format_name": self.model_format_name,
            "model_format_version": self.model_format_version,
            "description": self.description,
            "metrics": self.metrics,
            "labels": self.labels,
            "storage_key": self.storage_key,
            "service_account_name": self.service_account_name,
            **dict.fromkeys(OUTPUT_KEYS),
        }


class ModelRegistryEntry(dyn.Resource, module="kfstack", name="ModelRegistryEntry"):
    """A model version in the Kubeflow Model Registry, with its model artifact.

    Outputs ``model_registry_uri`` (``model-registry://<model>/<version>``) can be an
    InferenceService's ``storageUri`` when the model registry storage initializer is installed.
    """

    registered_model_id: pulumi.Output[str]
    model_version_id: pulumi.Output[str]
    model_artifact_id: pulumi.Output[str]
    model_registry_uri: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        args: ModelRegistryEntryArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
        super().__init__(
            ModelRegistryProvider(),
            resource_name,
            args.props(),
            pulumi.ResourceOptions.merge(opts, secret),
        )


def _defaults(*classes: type) -> dict[str, Any]:
    """The defaults of the Args' fields, by property name (None defaults left out)."""
    found: dict[str, Any] = {}
    for cls in classes:
        for item in fields(cls):
            if item.default_factory is not MISSING:
                found[item.name] = item.default_factory()
            elif item.default is not MISSING and item.default is not None:
                found[item.name] = item.default
    return found


_DEFAULTS = _defaults(RegistryConnectionArgs, ModelRegistryEntryArgs)
